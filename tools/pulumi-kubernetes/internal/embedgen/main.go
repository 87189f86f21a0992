// Command embedgen turns the provider's committed schema.json and
// terraform-mapping.json into the compact *-embed.json files that the provider
// binary embeds, setting the schema's "version" field (like upstream's
// cmd/pulumi-resource-kubernetes/generate.go, without depending on pulumi/pkg).
//
// Usage: embedgen VERSION SRC_DIR DST_DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: embedgen VERSION SRC_DIR DST_DIR")
		os.Exit(2)
	}
	version, src, dst := os.Args[1], os.Args[2], os.Args[3]
	if err := run(version, src, dst); err != nil {
		fmt.Fprintln(os.Stderr, "embedgen:", err)
		os.Exit(1)
	}
}

func run(version, src, dst string) error {
	var schema map[string]json.RawMessage
	if err := readJSON(filepath.Join(src, "schema.json"), &schema); err != nil {
		return err
	}
	v, err := json.Marshal(version)
	if err != nil {
		return err
	}
	schema["version"] = v
	if err := writeJSON(filepath.Join(dst, "schema-embed.json"), schema); err != nil {
		return err
	}

	var mapping any
	if err := readJSON(filepath.Join(src, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dst, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
