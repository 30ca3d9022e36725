// Command kubectl-account is the `kubectl account` plugin: put it on PATH and
// run `kubectl account --help`.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/accountops/account-lifecycle-operator/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}
