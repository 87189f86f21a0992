package main

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFindPlugins(t *testing.T) {
	dir := t.TempDir()
	nm := filepath.Join(dir, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi/pulumi/package.json"), `{"name":"@pulumi/pulumi","version":"3.260.0"}`)
	writeFile(t, filepath.Join(nm, "@pulumi/kubernetes/package.json"),
		`{"name":"@pulumi/kubernetes","version":"4.25.0","pulumi":{"resource":true,"name":"kubernetes"}}`)
	// Nested copy with another version, and a third-party scoped package with a server.
	writeFile(t, filepath.Join(nm, "foo/node_modules/@pulumi/command/package.json"),
		`{"name":"@pulumi/command","version":"1.2.1","pulumi":{"resource":true}}`)
	writeFile(t, filepath.Join(nm, "@acme/pulumi-thing/package.json"),
		`{"name":"@acme/pulumi-thing","version":"v0.1.0","pulumi":{"resource":true,"server":"https://example.invalid"}}`)
	writeFile(t, filepath.Join(nm, "broken/package.json"), `{not json`)

	plugins, err := findPlugins(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range plugins {
		if p.Kind != "resource" {
			t.Errorf("%s: kind %q", p.Name, p.Kind)
		}
		got[p.Name] = p.Version + " " + p.Server
	}
	want := map[string]string{
		"kubernetes":        "v4.25.0 ",
		"command":           "v1.2.1 ",
		"acme/pulumi-thing": "v0.1.0 https://example.invalid",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestFindPluginsNoNodeModules(t *testing.T) {
	plugins, err := findPlugins(t.TempDir())
	if err != nil || len(plugins) != 0 {
		t.Fatalf("got %v, %v", plugins, err)
	}
}
