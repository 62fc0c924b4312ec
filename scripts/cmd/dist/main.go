// Command dist builds the release: every binary for every platform it runs
// on, the Debian packages of the agent and the cloud, and SHA256SUMS, into
// one directory (`make dist`: dist/).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/memberpass/memberpass/scripts/dist"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run() error {
	version := flag.String("version", "dev", "version stamped into the binaries and the packages (git describe)")
	out := flag.String("out", "dist", "directory for the binaries, packages and SHA256SUMS (emptied first)")
	root := flag.String("root", ".", "the module's root")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if err := os.RemoveAll(*out); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, p := range dist.Platforms {
		bins := map[string]string{}
		for _, c := range dist.Commands {
			if !c.BuiltFor(p) {
				continue
			}
			path := filepath.Join(*out, dist.BinaryName(c, *version, p))
			if err := dist.Build(ctx, *root, c, p, *version, path, true); err != nil {
				return err
			}
			bins[c.Name] = path
			fmt.Println("built", path)
		}
		if p.DebArch() == "" {
			continue
		}
		for _, pkg := range []dist.Package{dist.Agent, dist.Cloud} {
			if _, ok := bins[pkg.Binaries[0]]; !ok {
				continue
			}
			deb, err := dist.Deb(*root, pkg, p, *version, bins, *out)
			if err != nil {
				return err
			}
			fmt.Println("packaged", deb)
		}
	}
	if err := dist.WriteSHA256SUMS(*out); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(*out, "SHA256SUMS"))
	return nil
}
