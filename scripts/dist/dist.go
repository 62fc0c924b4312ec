// Package dist builds what a shop or HQ installs: the binaries for every
// platform a POS box or a server runs (CGO off, so nothing else is needed
// on the box), a Debian package per service with its systemd unit,
// environment file, system user and (for the agent) udev rule, and a
// SHA256SUMS file over all of it. Only Go is needed to build it: the
// packages are made by nfpm as a library.
package dist

import (
	"bufio"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

// packaging holds the units, environment files, maintainer scripts, sysusers
// and udev files, one directory per package.
//
//go:embed packaging
var packaging embed.FS

// Platform is a GOOS/GOARCH (and GOARM) pair a binary is built for.
type Platform struct {
	GOOS, GOARCH, GOARM string
}

// String names the platform in file names: linux_amd64, linux_armv7.
func (p Platform) String() string {
	if p.GOARCH == "arm" && p.GOARM != "" {
		return p.GOOS + "_armv" + p.GOARM
	}
	return p.GOOS + "_" + p.GOARCH
}

// DebArch is Debian's name for the platform's architecture, "" when there
// is no Debian package for it.
func (p Platform) DebArch() string {
	if p.GOOS != "linux" {
		return ""
	}
	switch p.GOARCH {
	case "amd64", "arm64":
		return p.GOARCH
	case "arm":
		if p.GOARM == "7" {
			return "armhf"
		}
	}
	return ""
}

// Exe is the file name suffix of executables on the platform.
func (p Platform) Exe() string {
	if p.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// Platforms are those `make dist` builds: the servers and POS boxes we
// meet (x86 tills and servers, ARM boards, Windows tills).
var Platforms = []Platform{
	{GOOS: "linux", GOARCH: "amd64"},
	{GOOS: "linux", GOARCH: "arm64"},
	{GOOS: "linux", GOARCH: "arm", GOARM: "7"},
	{GOOS: "windows", GOARCH: "amd64"},
}

// Command is one binary of the system.
type Command struct {
	Name string // memberpass-agent
	Pkg  string // ./agent/cmd/memberpass-agent, relative to the module root
	// On lists the platforms (Platform.String) it is built for: the agent
	// for every till, the cloud for servers, HQ's client for servers and
	// desks.
	On []string
}

// Commands are the binaries `make dist` builds.
var Commands = []Command{
	{Name: "memberpass-agent", Pkg: "./agent/cmd/memberpass-agent", On: []string{"linux_amd64", "linux_arm64", "linux_armv7", "windows_amd64"}},
	{Name: "memberpass-cloud", Pkg: "./cloud/cmd/memberpass-cloud", On: []string{"linux_amd64", "linux_arm64"}},
	{Name: "memberpass-hq", Pkg: "./cloud/cmd/memberpass-hq", On: []string{"linux_amd64", "linux_arm64", "windows_amd64"}},
}

// BuiltFor says whether c is built for p.
func (c Command) BuiltFor(p Platform) bool { return slices.Contains(c.On, p.String()) }

// BinaryName is a command's file name in the dist directory.
func BinaryName(c Command, version string, p Platform) string {
	return fmt.Sprintf("%s_%s_%s%s", c.Name, version, p, p.Exe())
}

// Build compiles one command for one platform into out (a file path),
// without cgo, stamped with version. A release build (release true) leaves
// the build machine's paths and the debug symbols out; tests build without
// it, reusing the build cache of `go test`.
func Build(ctx context.Context, root string, c Command, p Platform, version, out string, release bool) error {
	args := []string{"build", "-ldflags", "-X main.version=" + version, "-o", out}
	if release {
		args = []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + version, "-o", out}
	}
	cmd := exec.CommandContext(ctx, "go", append(args, c.Pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.GOOS, "GOARCH="+p.GOARCH, "GOARM="+p.GOARM)
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s: %w\n%s", c.Name, p, err, o)
	}
	return nil
}

// Package describes one Debian package.
type Package struct {
	Name        string
	Description string
	// Binaries are the commands installed in /usr/bin.
	Binaries []string
	// Docs are files of the repository installed in /usr/share/doc/<name>.
	Docs []string
	// Udev is the udev rule file in packaging/<dir>, if any.
	Udev string
	dir  string // its files under packaging/
}

// Agent is the package for a store's POS box.
var Agent = Package{
	Name: "memberpass-agent",
	Description: "memberpass store agent\n" +
		" Reads the counter's scanners and card readers, identifies members from a\n" +
		" local replica, records visits and bills durably while offline and syncs\n" +
		" them with the memberpass cloud.",
	Binaries: []string{"memberpass-agent"},
	Docs:     []string{"firmware-notes/operations.md", "firmware-notes/linux.md", "firmware-notes/README.md"},
	Udev:     "70-memberpass.rules",
	dir:      "agent",
}

// Cloud is the package for HQ's server (the cloud and HQ's client).
var Cloud = Package{
	Name: "memberpass-cloud",
	Description: "memberpass cloud service\n" +
		" The central service of the memberpass loyalty system: sync for store\n" +
		" agents, administration for HQ (memberpass-hq), member pages, health\n" +
		" and metrics.",
	Binaries: []string{"memberpass-cloud", "memberpass-hq"},
	Docs:     []string{"firmware-notes/operations.md"},
	dir:      "cloud",
}

// DebVersion turns a build version (git describe: v1.2.3, v1.2.3-4-gabcdef,
// abcdef0, abcdef0-dirty, dev) into one dpkg accepts and orders sensibly:
// it must start with a digit.
func DebVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if m := describeRE.FindStringSubmatch(v); m != nil {
		// v1.2.3-4-gabcdef: 4 commits after v1.2.3 sorts after it.
		out := m[1]
		if m[2] != "" {
			out += "+git" + m[2] + "." + m[3]
		}
		if m[4] != "" {
			out += "~dirty"
		}
		return out
	}
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' {
			return r
		}
		return '.'
	}, v)
	return "0.0.0~" + clean
}

var describeRE = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)(?:-([0-9]+)-g([0-9a-f]+))?(-dirty)?$`)

// Deb builds pkg for p into outDir from the binaries in bins (command name
// to file), taking docs from the repository at root, and returns the
// package's path.
func Deb(root string, pkg Package, p Platform, version string, bins map[string]string, outDir string) (string, error) {
	arch := p.DebArch()
	if arch == "" {
		return "", fmt.Errorf("package %s: no Debian architecture for %s", pkg.Name, p)
	}
	stage, err := os.MkdirTemp("", "memberpass-dist-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	sub, err := fs.Sub(packaging, "packaging/"+pkg.dir)
	if err != nil {
		return "", err
	}
	if err := os.CopyFS(stage, sub); err != nil {
		return "", fmt.Errorf("stage %s's files: %w", pkg.Name, err)
	}
	in := func(name string) string { return filepath.Join(stage, name) }
	mode := func(m os.FileMode) *files.ContentFileInfo {
		return &files.ContentFileInfo{Mode: m, Owner: "root", Group: "root"}
	}
	contents := files.Contents{
		{Source: in(pkg.Name + ".service"), Destination: "/usr/lib/systemd/system/" + pkg.Name + ".service", FileInfo: mode(0o644)},
		{Source: in(pkg.Name + ".sysusers"), Destination: "/usr/lib/sysusers.d/" + pkg.Name + ".conf", FileInfo: mode(0o644)},
		// A conffile: an upgrade keeps the shop's settings (and the pairing
		// ticket, so it is readable by root only).
		{Source: in(pkg.Name + ".default"), Destination: "/etc/default/" + pkg.Name, Type: files.TypeConfigNoReplace, FileInfo: mode(0o600)},
	}
	if pkg.Udev != "" {
		contents = append(contents, &files.Content{Source: in(pkg.Udev), Destination: "/usr/lib/udev/rules.d/" + pkg.Udev, FileInfo: mode(0o644)})
	}
	for _, b := range pkg.Binaries {
		src, ok := bins[b]
		if !ok {
			return "", fmt.Errorf("package %s: no %s binary for %s", pkg.Name, b, p)
		}
		contents = append(contents, &files.Content{Source: src, Destination: "/usr/bin/" + b, FileInfo: mode(0o755)})
	}
	for _, d := range pkg.Docs {
		contents = append(contents, &files.Content{Source: filepath.Join(root, d), Destination: "/usr/share/doc/" + pkg.Name + "/" + filepath.Base(d), FileInfo: mode(0o644)})
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          pkg.Name,
		Arch:          arch,
		Platform:      "linux",
		Version:       DebVersion(version),
		VersionSchema: "none",
		Section:       "misc",
		Priority:      "optional",
		Maintainer:    "memberpass <ops@memberpass.example>",
		Description:   pkg.Description,
		Homepage:      "https://github.com/memberpass/memberpass",
		License:       "Proprietary",
		MTime:         time.Unix(0, 0).UTC(),
		Overridables: nfpm.Overridables{
			Recommends: []string{"systemd", "udev"},
			Contents:   contents,
			Scripts: nfpm.Scripts{
				PostInstall: in("postinst"),
				PreRemove:   in("prerm"),
				PostRemove:  in("postrm"),
			},
		},
	})
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", fmt.Errorf("package %s: %w", pkg.Name, err)
	}
	packager, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	out := filepath.Join(outDir, packager.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	if err := packager.Package(info, f); err != nil {
		f.Close()
		return "", fmt.Errorf("package %s for %s: %w", pkg.Name, p, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return out, nil
}

// WriteSHA256SUMS writes dir/SHA256SUMS over every other regular file in
// dir, in the format `sha256sum -c` checks.
func WriteSHA256SUMS(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var lines []string
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "SHA256SUMS" {
			continue
		}
		sum, err := fileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		lines = append(lines, sum+"  "+e.Name())
	}
	return os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// CheckSHA256SUMS verifies dir/SHA256SUMS as `sha256sum -c` would.
func CheckSHA256SUMS(dir string) error {
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			return fmt.Errorf("SHA256SUMS: bad line %q", sc.Text())
		}
		got, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if got != sum {
			return fmt.Errorf("SHA256SUMS: %s has %s, listed %s", name, got, sum)
		}
	}
	return sc.Err()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
