// Command pulumi-resource-kubernetes is a thin kvmesh-owned entry point for the
// upstream Pulumi Kubernetes provider (github.com/pulumi/pulumi-kubernetes/provider/v4).
//
// The upstream cmd/pulumi-resource-kubernetes package embeds generated
// *-embed.json files that are not part of the Go module, so build.sh generates
// them (schema.json with the provider version stamped in, and the terraform
// mapping) from the module's committed files before building this package.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
