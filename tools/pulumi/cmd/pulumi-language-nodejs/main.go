// Command pulumi-language-nodejs is kvmesh's own, minimal Node.js language host
// for the Pulumi CLI.
//
// Why it exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) that only
// has pseudo-versions, and the module proxy this project can reach refuses all
// of them (403 "This module version is not available"). See tools/README.md.
//
// It speaks the LanguageRuntime gRPC protocol of the pinned
// github.com/pulumi/pulumi/sdk/v3 and delegates the real work to the
// @pulumi/pulumi npm package installed in the program's node_modules, exactly
// like the upstream host: it runs `node <@pulumi/pulumi/cmd/run> --monitor ...
// <program>` with the configuration in PULUMI_CONFIG, and Node.js plugins (policy
// packs for `--policy-pack`, component providers) with
// `node <@pulumi/pulumi/cmd/run-plugin> <plugin dir> <args...>`. It implements
// what `pulumi preview/up/destroy/refresh/install/about/plugin` need; the code
// generation and packaging RPCs (GenerateProject, Pack, Link, ...) answer
// Unimplemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/shlex"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	// Module paths (resolved from the program directory, see locateModule) of
	// the @pulumi/pulumi entry points that run a program and a plugin.
	runModule       = "@pulumi/pulumi/cmd/run"
	runPluginModule = "@pulumi/pulumi/cmd/run-plugin"
	// Exit code with which @pulumi/pulumi signals that it already reported an
	// actionable error to the user (nodeJSProcessExitedAfterLoggingUserActionableMessage).
	exitCodeAlreadyReported = 32
)

func main() {
	var tracing string
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	// Accepted for compatibility with the upstream host; unused.
	flag.String("root", "", "[unused] project root directory")
	flag.Parse()

	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-nodejs", "pulumi-language-nodejs", tracing)

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	host := &nodeHost{engineAddress: engineAddress, tracing: tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := req.GetEngineAddress(); a != "" {
		h.engineAddress = a
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// programDir returns the directory of the Pulumi program (where package.json
// and node_modules live), preferring the structured ProgramInfo.
func programDir(info *pulumirpc.ProgramInfo, legacy string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	if legacy != "" {
		return legacy
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// GetRequiredPlugins reports every resource plugin declared by an npm package
// (package.json "pulumi": {"resource": true, ...}) below the program's
// node_modules. The engine falls back to this from GetRequiredPackages.
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd()) //nolint:staticcheck // legacy field fallback
	plugins, err := findPlugins(dir)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

type pulumiPackageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// findPlugins walks dir/node_modules (following the npm layout, including
// nested node_modules and @scope directories) for plugin-declaring packages.
func findPlugins(dir string) ([]*pulumirpc.PluginDependency, error) {
	root := filepath.Join(dir, "node_modules")
	seen := map[string]bool{}
	var plugins []*pulumirpc.PluginDependency
	var walk func(nodeModules string) error
	walk = func(nodeModules string) error {
		entries, err := os.ReadDir(nodeModules)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		var pkgDirs []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(nodeModules, name)
			if strings.HasPrefix(name, "@") {
				scoped, err := os.ReadDir(p)
				if err != nil {
					continue
				}
				for _, s := range scoped {
					pkgDirs = append(pkgDirs, filepath.Join(p, s.Name()))
				}
				continue
			}
			pkgDirs = append(pkgDirs, p)
		}
		for _, pkgDir := range pkgDirs {
			b, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
			if err == nil {
				var pj pulumiPackageJSON
				if json.Unmarshal(b, &pj) == nil && pj.Pulumi.Resource {
					dep := pluginFromPackage(pj)
					key := dep.Name + "@" + dep.Version + "@" + dep.Server
					if dep.Name != "" && !seen[key] {
						seen[key] = true
						plugins = append(plugins, dep)
					}
				}
			}
			if err := walk(filepath.Join(pkgDir, "node_modules")); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	sort.Slice(plugins, func(i, j int) bool {
		if plugins[i].Name != plugins[j].Name {
			return plugins[i].Name < plugins[j].Name
		}
		return plugins[i].Version < plugins[j].Version
	})
	return plugins, nil
}

func pluginFromPackage(pj pulumiPackageJSON) *pulumirpc.PluginDependency {
	name := pj.Pulumi.Name
	if name == "" {
		name = strings.TrimPrefix(pj.Name, "@pulumi/")
		name = strings.TrimPrefix(name, "@")
	}
	v := pj.Pulumi.Version
	if v == "" {
		v = pj.Version
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return &pulumirpc.PluginDependency{Name: name, Kind: "resource", Version: v, Server: pj.Pulumi.Server}
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml that matter here.
type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   string
}

func parseOptions(info *pulumirpc.ProgramInfo) runtimeOptions {
	opts := runtimeOptions{typescript: true}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"].(bool); ok {
		opts.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		opts.nodeargs = v
	}
	return opts
}

// tsEnv is the environment with which @pulumi/pulumi's cmd/run (and newer
// cmd/run-plugin) read the TypeScript options.
func (o runtimeOptions) tsEnv() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// locateModule resolves a module path (e.g. "@pulumi/pulumi/cmd/run") the way
// node's require does from a file in dir: it tries <d>/node_modules/<module>
// for dir and each parent d, then each NODE_PATH entry of env, accepting
// <module>, <module>.js or <module>/index.js. So a program or policy pack
// without node_modules of its own uses its parent project's.
func locateModule(dir, module string, env []string) (string, error) {
	var roots []string
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if filepath.Base(d) != "node_modules" {
			roots = append(roots, filepath.Join(d, "node_modules"))
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	nodePath := ""
	for _, kv := range env { // the last NODE_PATH wins, as with os/exec
		if v, ok := strings.CutPrefix(kv, "NODE_PATH="); ok {
			nodePath = v
		}
	}
	roots = append(roots, filepath.SplitList(nodePath)...)
	for _, root := range roots {
		if root == "" {
			continue
		}
		base := filepath.Join(root, filepath.FromSlash(module))
		for _, p := range []string{base, base + ".js", filepath.Join(base, "index.js")} {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("cannot find module '%s' from %s", module, dir)
}

func (h *nodeHost) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	opts := parseOptions(info)

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not find node on the $PATH: %v", err)}, nil
	}
	env := os.Environ()
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath, err = locateModule(dir, runModule, env)
		if err != nil {
			return &pulumirpc.RunResponse{Error: "It looks like the Pulumi SDK has not been installed. " +
				"Have you run npm install or yarn install? (" + err.Error() + ")"}, nil
		}
	}

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing config secret keys: %w", err)
	}

	nodeArgs, err := shlex.Split(opts.nodeargs)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("invalid nodeargs %q: %v", opts.nodeargs, err)}, nil
	}
	args := append(nodeArgs, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", dir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if p := req.GetParallel(); p != 0 {
		add("parallel", strconv.Itoa(int(p)))
	}
	add("tracing", h.tracing)
	program := info.GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // legacy field fallback
	}
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	env = append(env,
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	env = append(env, opts.tsEnv()...)

	logging.V(5).Infof("language host launching: %s %s", nodeBin, strings.Join(args, " "))
	cmd := exec.Command(nodeBin, args...) //nolint:gosec // running the user's program is the point
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	// Node does not always flush process.stdout/stderr writes before exiting.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		switch code := exitErr.ExitCode(); code {
		case exitCodeAlreadyReported:
			return &pulumirpc.RunResponse{Bail: true}, nil
		case 0:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", err)}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
	}, nil
}

// RunPlugin runs a Node.js plugin: the engine's way to start a policy pack
// (`--policy-pack DIR`, kind "analyzer", args [engine address]) or a
// PulumiPlugin.yaml provider when a language host exists (see newPlugin in
// sdk/go/common/resource/plugin/plugin.go). It runs
//
//	node [nodeargs] <run-plugin> <plugin directory> <args...>
//
// in req.Pwd (the stack's project directory) with exactly req.Env (the engine
// passes its whole environment) plus the TypeScript options, where run-plugin is
// @pulumi/pulumi/cmd/run-plugin resolved from the plugin directory upwards (a
// policy pack can use its parent project's node_modules). run-plugin registers
// ts-node (always, in @pulumi/pulumi 3.248) and requires the directory; the
// plugin prints its gRPC port as the first line of stdout, which the engine reads
// from the stdout messages of this stream. Stdout and stderr are streamed as they
// come; the last message carries the exit code. When the engine kills the
// plugin it cancels the stream, and node gets SIGINT (SIGKILL 5 s later).
//
// Policy packs: @pulumi/policy's PolicyPack reads the pack version from
// <cwd>/package.json, i.e. the project's (kvmesh's policy/ has none). The engine
// configures the pack over the Analyzer protocol (ConfigureStack: stack, tags,
// config; @pulumi/policy 1.21 keeps only the tags). Unlike upstream, nodeargs go
// before the script (they are node options, as in Run), and no PolicyProxy
// (sdk/v3's sdk.NewPolicyProxy) sets PULUMI_CONFIG, PULUMI_NODEJS_STACK, ... so
// pulumi.getStack() or new pulumi.Config() inside a policy pack see nothing.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	info := req.GetInfo()
	dir := programDir(info, req.GetProgram()) //nolint:staticcheck // legacy field fallback
	opts := parseOptions(info)
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	runPath, err := locateModule(dir, runPluginModule, req.GetEnv())
	if err != nil {
		return fmt.Errorf("it looks like the Pulumi SDK has not been installed for the plugin in %s: %w", dir, err)
	}
	args, err := shlex.Split(opts.nodeargs)
	if err != nil {
		return fmt.Errorf("invalid nodeargs %q: %w", opts.nodeargs, err)
	}
	args = append(args, runPath, dir)
	args = append(args, req.GetArgs()...)

	// gRPC streams must not be sent on concurrently; os/exec copies stdout and
	// stderr in two goroutines.
	send := &lockedSender{LanguageRuntime_RunPluginServer: server}
	_, stdout, stderr, err := rpcutil.MakeRunPluginStreams(send, false)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(server.Context(), nodeBin, args...) //nolint:gosec // running the plugin is the point
	cmd.Dir = req.GetPwd()
	cmd.Env = append(append([]string{}, req.GetEnv()...), opts.tsEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	logging.V(5).Infof("language host launching plugin (%s) in %s: %s %s",
		req.GetKind(), cmd.Dir, nodeBin, strings.Join(args, " "))

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
	default: // did not start, or was killed by a signal (e.g. the engine cancelled it)
		return fmt.Errorf("running plugin %s: %w", dir, err)
	}
	code := int32(cmd.ProcessState.ExitCode()) //nolint:gosec // exit codes fit
	return send.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// lockedSender serialises Send on a RunPlugin stream.
type lockedSender struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	mu sync.Mutex
}

func (s *lockedSender) Send(m *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.LanguageRuntime_RunPluginServer.Send(m)
}

// InstallDependencies runs `npm install` in the program directory
// (`pulumi install`, `pulumi new`). Only npm is supported.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := programDir(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // legacy field fallback
	stdout := &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	stderr := &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	cmd := exec.CommandContext(server.Context(), "npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", dir, err)
	}
	return nil
}

type streamWriter struct {
	mu   sync.Mutex
	send func([]byte) error
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := make([]byte, len(p))
	copy(b, p)
	if err := w.send(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = (*streamWriter)(nil)

func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies lists the direct dependencies declared in
// package.json with the versions installed in node_modules.
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd()) //nolint:staticcheck // legacy field fallback
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pj struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return nil, fmt.Errorf("parsing package.json: %w", err)
	}
	names := make([]string, 0, len(pj.Dependencies)+len(pj.DevDependencies))
	for n := range pj.Dependencies {
		names = append(names, n)
	}
	for n := range pj.DevDependencies {
		names = append(names, n)
	}
	sort.Strings(names)
	var deps []*pulumirpc.DependencyInfo
	for _, n := range names {
		v := pj.Dependencies[n]
		if v == "" {
			v = pj.DevDependencies[n]
		}
		if ib, err := os.ReadFile(filepath.Join(dir, "node_modules", n, "package.json")); err == nil {
			var installed struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(ib, &installed) == nil && installed.Version != "" {
				v = installed.Version
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// RuntimeOptionsPrompts: no interactive runtime options (npm is the only
// package manager supported by this host).
func (h *nodeHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
