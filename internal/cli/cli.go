// Package cli implements `kubectl account`, the kubectl plugin for recording
// incidents and decisions on CustomerAccounts, explaining where an account
// stands and simulating a candidate AccountPolicy.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// FieldManager is the server-side apply field manager of the plugin's writes.
const FieldManager = "kubectl-account"

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanged = 2 // simulate --fail-on-change: some phase would change
)

// errChanged makes Run exit with ExitChanged without printing an error.
var errChanged = errors.New("phases would change")

// usageError is bad input: reported with a pointer to --help, before any
// request is sent to the cluster.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// app is one invocation: its streams, flags and (lazily) its client.
type app struct {
	stdout, stderr io.Writer
	cfg            *rest.Config
	// flags are kubectl's kubeconfig flags (--kubeconfig, --context, --as,
	// --request-timeout, ...), on every command, before or after it.
	flags *genericclioptions.ConfigFlags
	// output is -o of a command that writes ("": the summary line).
	output string
	now    time.Time
	c      client.Client
}

// command is one subcommand.
type command struct {
	name, args, short, long string
	// setup registers the command's flags and returns its runner, which gets
	// the positional arguments.
	setup func(a *app, fs *pflag.FlagSet) func(ctx context.Context, args []string) error
	// writes: the command changes the account, and -o json|yaml prints the
	// account as written instead of the one-line summary.
	writes bool
}

var commands = []command{reportCmd, waiveCmd, appealCmd, decideAppealCmd, holdCmd, approveCmd, reinstateCmd, compactCmd, explainCmd, simulateCmd, versionCmd}

// Version is the plugin's version, set at build time
// (-ldflags "-X .../internal/cli.Version=v0.2.0").
var Version = "dev"

var versionCmd = command{
	name: "version", args: "",
	short: "Print the plugin's version.",
	long:  "Example:\n  kubectl account version\n",
	setup: func(a *app, _ *pflag.FlagSet) func(context.Context, []string) error {
		return func(_ context.Context, args []string) error {
			if err := exactArgs(args); err != nil {
				return err
			}
			return a.printf("kubectl-account %s (API %s)\n", Version, v1alpha1.GroupVersion)
		}
	},
}

// Run runs `kubectl account` with args (without the program name) and returns
// the exit code. cfg, when not nil, is used instead of loading a kubeconfig.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, cfg *rest.Config) int {
	a := &app{stdout: stdout, stderr: stderr, cfg: cfg, now: time.Now().UTC().Truncate(time.Second)}
	if len(args) == 0 {
		a.usage(stdout)
		return ExitError
	}
	root := a.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errChanged):
		return ExitChanged
	case cmd == root || cmd == nil:
		_, _ = fmt.Fprintf(stderr, "error: %v\n", err)
		a.usage(stderr)
	case errors.As(err, &ue):
		_, _ = fmt.Fprintf(stderr, "error: %v\nSee 'kubectl account %s --help'.\n", err, cmd.Name())
	default:
		_, _ = fmt.Fprintf(stderr, "error: %v\n", err)
	}
	return ExitError
}

// root is the cobra command tree: one command per entry of commands, plus
// cobra's shell completion (kubectl account completion bash|zsh|fish).
func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		// The binary's name: completion scripts complete kubectl-account,
		// which kubectl runs for `kubectl account` (see kubectl_complete-account).
		Use: "kubectl-account", Short: "Record incidents and decisions on CustomerAccounts, explain and simulate.",
		SilenceUsage: true, SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error { a.usage(c.OutOrStdout()); return nil },
	}
	a.flags = genericclioptions.NewConfigFlags(true)
	a.flags.AddFlags(root.PersistentFlags())
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if c == root {
			a.usage(c.OutOrStdout())
			return
		}
		_, _ = fmt.Fprintf(c.OutOrStdout(), "%s\n\nUsage:\n  kubectl account %s %s\n\n%s\nFlags:\n%s\nGlobal flags (kubectl's):\n%s",
			c.Short, c.Name(), c.Annotations["args"], c.Long, c.LocalFlags().FlagUsages(), c.InheritedFlags().FlagUsages())
	})
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	for _, def := range commands {
		cmd := &cobra.Command{
			Use: def.name, Short: def.short, Long: def.long,
			Annotations:  map[string]string{"args": def.args},
			SilenceUsage: true, SilenceErrors: true,
		}
		run := def.setup(a, cmd.Flags())
		if def.writes {
			cmd.Flags().StringVarP(&a.output, "output", "o", "", "print the account as written: json or yaml, or name (resource/name, as kubectl -o name); default: a one-line summary")
		}
		cmd.RunE = func(c *cobra.Command, args []string) error {
			check := checkOutput
			if def.writes {
				check = checkWriteOutput
			}
			if err := check(a.output); err != nil {
				return err
			}
			return run(c.Context(), args)
		}
		root.AddCommand(cmd)
	}
	return root
}

func (a *app) usage(w io.Writer) {
	p := &printer{w: w}
	p.printf("kubectl account records incidents and decisions on CustomerAccounts, explains where\n" +
		"an account stands and simulates a candidate AccountPolicy.\n\nCommands:\n")
	for _, c := range commands {
		p.printf("  %-13s %s\n", c.name, c.short)
	}
	p.printf("  %-13s %s\n", "completion", "Shell completion: kubectl account completion bash|zsh|fish|powershell.")
	p.printf("\nUse 'kubectl account COMMAND --help' for a command's flags; kubectl's kubeconfig flags\n" +
		"(--kubeconfig, --context, --as, --request-timeout, ...) work on every command.\n")
}

// client returns a client for the cluster, loading the kubeconfig the way
// kubectl does ($KUBECONFIG and the kubeconfig flags) unless a config was
// given.
func (a *app) client() (client.Client, error) {
	if a.c != nil {
		return a.c, nil
	}
	cfg := a.cfg
	if cfg == nil {
		// Without any kubeconfig, client-go would quietly try
		// localhost:8080; say what is missing instead.
		raw, err := a.flags.ToRawKubeConfigLoader().RawConfig()
		if err == nil && len(raw.Contexts) == 0 && (a.flags.APIServer == nil || *a.flags.APIServer == "") {
			return nil, errors.New("no cluster to talk to: no kubeconfig found ($KUBECONFIG, --kubeconfig or ~/.kube/config) and no --server given")
		}
		loaded, err := a.flags.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig: %w", err)
		}
		cfg = loaded
	} else if a.flags != nil && a.flags.Impersonate != nil && *a.flags.Impersonate != "" {
		// A given config (the tests') still honours --as.
		cfg = rest.CopyConfig(cfg)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: *a.flags.Impersonate}
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := authnv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	a.c = c
	return c, nil
}

// clientAs is the cluster client and who is acting (given, else whoami).
func (a *app) clientAs(ctx context.Context, given string) (client.Client, string, error) {
	c, err := a.client()
	if err != nil {
		return nil, "", err
	}
	who, err := a.whoami(ctx, c, given)
	return c, who, err
}

// whoami is the default for --reported-by and --by: the user the cluster
// authenticates us as, else $USER.
func (a *app) whoami(ctx context.Context, c client.Client, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	review := &authnv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err == nil && review.Status.UserInfo.Username != "" {
		return review.Status.UserInfo.Username, nil
	}
	if u := os.Getenv("USER"); u != "" {
		return u, nil
	}
	return "", usagef("cannot tell who you are: pass --by (or --reported-by)")
}

// getAccount reads an account, saying plainly when there is none.
func getAccount(ctx context.Context, c client.Client, name string) (*v1alpha1.CustomerAccount, error) {
	acct := &v1alpha1.CustomerAccount{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, acct); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("customer account %q not found", name)
		}
		return nil, err
	}
	return acct, nil
}

// exactArgs checks the positional arguments are exactly the named ones.
func exactArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		return usagef("expected %s, got %d argument(s)", strings.Join(names, " "), len(args))
	}
	return nil
}

func parseTime(flag, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usagef("--%s %q is not an RFC3339 time such as 2026-11-22T10:00:00Z", flag, v)
	}
	return t.UTC(), nil
}

func oneOf[T ~string](flag, v string, allowed []T) (T, error) {
	names := make([]string, len(allowed))
	for i, x := range allowed {
		if string(x) == v {
			return x, nil
		}
		names[i] = string(x)
	}
	sort.Strings(names)
	return "", usagef("--%s %q is not one of %s", flag, v, strings.Join(names, ", "))
}

func checkText(flag, v string, maxLen int) error {
	switch {
	case strings.TrimSpace(v) == "":
		return usagef("--%s is required", flag)
	case len(v) > maxLen:
		return usagef("--%s is %d characters long; at most %d are allowed", flag, len(v), maxLen)
	}
	return nil
}

// printer writes formatted output, keeping the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// printf writes a command's result to stdout.
func (a *app) printf(format string, args ...any) error {
	_, err := fmt.Fprintf(a.stdout, format, args...)
	return err
}

// wrote reports a write: the one-line summary, or with -o the account as
// it now is on the API server.
func (a *app) wrote(ctx context.Context, c client.Client, name, format string, args ...any) error {
	switch a.output {
	case "":
		return a.printf("customeraccount/"+name+": "+format+"\n", args...)
	case "name":
		return a.printf("customeraccount.%s/%s\n", v1alpha1.GroupVersion.Group, name)
	}
	acct, err := getAccount(ctx, c, name)
	if err != nil {
		return err
	}
	acct.SetManagedFields(nil)
	acct.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerAccount"))
	return writeStructured(a.stdout, a.output, acct)
}
