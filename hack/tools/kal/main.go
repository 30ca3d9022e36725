// Command kal is golangci-lint with the Kube API Linter's module plugin
// compiled in: what `golangci-lint custom` would build, but from the module
// proxy alone (custom clones from the network). make lint builds it into
// bin/ and runs it on api/ with .golangci-kal.yml.
package main

import (
	"fmt"
	"os"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"

	_ "sigs.k8s.io/kube-api-linter"
)

func main() {
	info := commands.BuildInfo{Version: "v2.15.0-kal", Commit: "", Date: ""}
	if err := commands.Execute(info); err != nil {
		fmt.Fprintf(os.Stderr, "Failed executing command with error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}
