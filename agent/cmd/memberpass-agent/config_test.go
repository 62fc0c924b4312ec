package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestDeviceFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string // MEMBERPASS_DEVICE
		want string // names and kinds, or "!" + part of the error
	}{
		{"scanner shorthand", []string{"--scanner", "/dev/ttyACM0"}, "", "scanner:scanner"},
		{"shorthand and devices", []string{"--scanner", "/dev/ttyACM0", "--device", "kind=magstripe,path=/dev/ttyUSB0", "--device", "kind=em4100,path=/dev/ttyUSB1,name=fob"}, "", "scanner:scanner magstripe:magstripe fob:em4100"},
		{"from the environment", nil, "kind=scanner,path=/dev/a;kind=uid,path=/dev/b", "scanner:scanner uid:uid"},
		{"command line wins over the environment", []string{"--device", "kind=uid,path=/dev/b"}, "kind=scanner,path=/dev/a", "uid:uid"},
		{"two scanners", []string{"--device", "kind=scanner,path=/a", "--device", "kind=scanner,path=/b"}, "", "scanner:scanner scanner-2:scanner"},
		{"name clash with the shorthand", []string{"--scanner", "/a", "--device", "kind=uid,path=/b,name=scanner"}, "", "!two devices named"},
		{"bad spec", []string{"--device", "kind=printer,path=/a"}, "", "!kind"},
		{"bad spec in the environment", nil, "kind=scanner", "!MEMBERPASS_DEVICE"},
		{"none", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MEMBERPASS_DEVICE", tt.env)
			if tt.env == "" {
				t.Setenv("MEMBERPASS_DEVICE", "")
			}
			c, err := parseFlags(tt.args, io.Discard)
			var got []string
			if err == nil {
				var l []string
				list, lerr := c.deviceList()
				err = lerr
				for _, d := range list {
					l = append(l, d.Name+":"+string(d.Kind))
				}
				got = l
			}
			if w, isErr := strings.CutPrefix(tt.want, "!"); isErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, %v; want error with %q", got, err, w)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != tt.want {
				t.Fatalf("got %q, %v; want %q", strings.Join(got, " "), err, tt.want)
			}
		})
	}
}

func TestScanRules(t *testing.T) {
	c, err := parseFlags([]string{"--voucher-prefix", "DY=douyin, MT=meituan", "--card-prefix", "61,88"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.scanRules()
	if err != nil {
		t.Fatal(err)
	}
	if r.VoucherPrefixes["DY"] != "douyin" || r.VoucherPrefixes["MT"] != "meituan" || strings.Join(r.CardPrefixes, ",") != "61,88" {
		t.Errorf("rules %+v", r)
	}
	c.vouchers = "DY"
	if _, err := c.scanRules(); err == nil {
		t.Error("voucher prefix without a platform accepted")
	}
}

// A kiosk off loopback must be asked for, and the address it listens on
// becomes a Host it answers to; loopback needs nothing.
func TestKioskListenOffLoopback(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	dir := t.TempDir()
	for _, tt := range []struct {
		listen string
		remote bool
		ok     bool
		hosts  []string
	}{
		{"127.0.0.1:8080", false, true, nil},
		{"localhost:8080", false, true, nil},
		{"0.0.0.0:8080", false, false, nil},
		{"192.168.1.20:8080", false, false, nil},
		{"192.168.1.20:8080", true, true, []string{"192.168.1.20"}},
		{"0.0.0.0:8080", true, true, nil},
	} {
		logged.Reset()
		_, hosts, err := kioskAccess(config{kiosk: tt.listen, kioskRemote: tt.remote, dataDir: dir}, log)
		if (err == nil) != tt.ok || !slices.Equal(hosts, tt.hosts) {
			t.Errorf("%s remote=%v: hosts %v err %v", tt.listen, tt.remote, hosts, err)
		}
		if warned := strings.Contains(logged.String(), "level=WARN") && strings.Contains(logged.String(), "kiosk="+tt.listen); tt.ok && warned != tt.remote {
			t.Errorf("%s remote=%v: warning logged %v", tt.listen, tt.remote, warned)
		}
	}
}
