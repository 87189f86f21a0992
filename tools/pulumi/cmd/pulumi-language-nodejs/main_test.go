package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
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

func TestLocateModule(t *testing.T) {
	root := t.TempDir()
	nm := filepath.Join(root, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi/pulumi/cmd/run-plugin/index.js"), "")
	writeFile(t, filepath.Join(nm, "single.js"), "")
	// A policy pack below the project, without node_modules of its own.
	pack := filepath.Join(root, "policy", "sub")
	if err := os.MkdirAll(pack, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := locateModule(pack, runPluginModule, nil)
	if want := filepath.Join(nm, "@pulumi/pulumi/cmd/run-plugin/index.js"); err != nil || got != want {
		t.Errorf("run-plugin: got %q, %v; want %q", got, err, want)
	}
	if got, err := locateModule(pack, "single", nil); err != nil || got != filepath.Join(nm, "single.js") {
		t.Errorf("single: got %q, %v", got, err)
	}
	// Elsewhere only NODE_PATH finds it; the last NODE_PATH in env wins.
	other := t.TempDir()
	if _, err := locateModule(other, runPluginModule, nil); err == nil {
		t.Error("expected an error without node_modules")
	}
	env := []string{"NODE_PATH=/nonexistent", "NODE_PATH=/nonexistent" + string(os.PathListSeparator) + nm}
	if got, err := locateModule(other, runPluginModule, env); err != nil || got == "" {
		t.Errorf("NODE_PATH: got %q, %v", got, err)
	}
}

// fakeRunPluginServer records what RunPlugin streams back.
type fakeRunPluginServer struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	ctx              context.Context
	mu               sync.Mutex
	stdout, stderr   bytes.Buffer
	exitcode         int32
	gotExit, afterEx bool
}

func (s *fakeRunPluginServer) Context() context.Context { return s.ctx }

func (s *fakeRunPluginServer) Send(m *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gotExit {
		s.afterEx = true
	}
	switch o := m.Output.(type) {
	case *pulumirpc.RunPluginResponse_Stdout:
		s.stdout.Write(o.Stdout)
	case *pulumirpc.RunPluginResponse_Stderr:
		s.stderr.Write(o.Stderr)
	case *pulumirpc.RunPluginResponse_Exitcode:
		s.exitcode, s.gotExit = o.Exitcode, true
	}
	return nil
}

func TestRunPlugin(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	root := t.TempDir()
	// A stand-in for @pulumi/pulumi/cmd/run-plugin that reports how it was run.
	writeFile(t, filepath.Join(root, "node_modules/@pulumi/pulumi/cmd/run-plugin/index.js"), `
console.log(JSON.stringify({
  args: process.argv.slice(2), cwd: process.cwd(), execArgv: process.execArgv,
  ts: process.env.PULUMI_NODEJS_TYPESCRIPT, tsconfig: process.env.PULUMI_NODEJS_TSCONFIG_PATH,
  foo: process.env.KVMESH_TEST_FOO, leak: process.env.KVMESH_TEST_LEAK,
}));
console.error("to stderr");
process.exit(7);
`)
	pack := filepath.Join(root, "policy")
	pwd := filepath.Join(root, "project")
	for _, d := range []string{pack, pwd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("KVMESH_TEST_LEAK", "host env must not leak")
	opts, err := structpb.NewStruct(map[string]any{"nodeargs": "--no-warnings", "tsconfig": "tsconfig.policy.json"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &fakeRunPluginServer{ctx: context.Background()}
	err = (&nodeHost{}).RunPlugin(&pulumirpc.RunPluginRequest{
		Pwd:  pwd,
		Args: []string{"127.0.0.1:1234"},
		Env:  []string{"KVMESH_TEST_FOO=bar"},
		Kind: "analyzer",
		Info: &pulumirpc.ProgramInfo{RootDirectory: pack, ProgramDirectory: pack, EntryPoint: ".", Options: opts},
	}, srv)
	if err != nil {
		t.Fatal(err)
	}
	if !srv.gotExit || srv.exitcode != 7 || srv.afterEx {
		t.Errorf("exit code message: got=%v code=%d sentAfter=%v", srv.gotExit, srv.exitcode, srv.afterEx)
	}
	if got := srv.stderr.String(); got != "to stderr\n" {
		t.Errorf("stderr %q", got)
	}
	var ran struct {
		Args, ExecArgv               []string
		Cwd, TS, Tsconfig, Foo, Leak string
	}
	if err := json.Unmarshal(srv.stdout.Bytes(), &ran); err != nil {
		t.Fatalf("stdout %q: %v", srv.stdout.String(), err)
	}
	if strings.Join(ran.Args, " ") != pack+" 127.0.0.1:1234" || ran.Cwd != pwd ||
		strings.Join(ran.ExecArgv, " ") != "--no-warnings" || ran.TS != "true" ||
		ran.Tsconfig != "tsconfig.policy.json" || ran.Foo != "bar" || ran.Leak != "" {
		t.Errorf("plugin ran as %+v", ran)
	}
}

func TestRunPluginWithoutSDK(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	dir := t.TempDir()
	srv := &fakeRunPluginServer{ctx: context.Background()}
	err := (&nodeHost{}).RunPlugin(&pulumirpc.RunPluginRequest{
		Pwd: dir, Info: &pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir, EntryPoint: "."},
	}, srv)
	if err == nil || !strings.Contains(err.Error(), "cannot find module '@pulumi/pulumi/cmd/run-plugin'") {
		t.Fatalf("got %v", err)
	}
}
