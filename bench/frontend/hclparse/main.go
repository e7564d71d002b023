// Command hclparse parses each file named on the command line with HashiCorp's
// HCL v2 native-syntax parser (the one Terraform uses) and prints the number of
// diagnostics; it exits 1 if any file has errors.  It is the reference side of
// the stk front-end benchmark (bench/frontend/run.sh), not part of the C build.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2/hclparse"
)

func main() {
	p := hclparse.NewParser()
	ndiags, failed := 0, false
	for _, path := range os.Args[1:] {
		_, diags := p.ParseHCLFile(path)
		ndiags += len(diags)
		if diags.HasErrors() {
			failed = true
			fmt.Fprintln(os.Stderr, diags.Error())
		}
	}
	fmt.Printf("%d diagnostics\n", ndiags)
	if failed {
		os.Exit(1)
	}
}
