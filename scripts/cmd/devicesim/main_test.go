package main

import (
	"testing"

	"github.com/memberpass/memberpass/agent/device"
)

// TestFrameOf: each kind's frame reads back, through the agent's parser
// for the kind, as the line that asked for it.
func TestFrameOf(t *testing.T) {
	tests := []struct {
		o        options
		spec     string
		in, want string
	}{
		{options{kind: "scanner", aim: "]Q1", suffix: "\r\n"}, "kind=scanner,path=/x", "MCABC", "MCABC"},
		{options{kind: "magstripe"}, "kind=magstripe,path=/x", "8800000001", "8800000001"},
		{options{kind: "em4100", emVersion: 0x1E}, "kind=em4100,path=/x", "8084769", "0008084769"},
		{options{kind: "uid", uidSep: "colon"}, "kind=uid,path=/x", "04A1B2C3D4E580", "04A1B2C3D4E580"},
		{options{kind: "uid", uidDecimal: true}, "kind=uid,path=/x,number=dec", "A1B2C3D4", "A1B2C3D4"},
	}
	for _, tt := range tests {
		f, err := frameOf(tt.o, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		c, err := device.Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := c.NewFramer().Feed(f)
		if len(got) != 1 || got[0].Err != nil || got[0].Text != tt.want {
			t.Errorf("%s %q: frame %q read as %+v, want %q", tt.o.kind, tt.in, f, got, tt.want)
		}
	}
	for _, bad := range []options{{kind: "printer"}, {kind: "magstripe"}, {kind: "uid", uidDecimal: true}} {
		if _, err := frameOf(bad, "04A1B2C3D4E580X"); err == nil {
			t.Errorf("%+v accepted a bad line", bad)
		}
	}
}
