package device

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want string // Config.String(), or "!" + part of the error
	}{
		{"kind=scanner,path=/dev/ttyACM0", "kind=scanner,name=scanner,path=/dev/ttyACM0,baud=9600,max-frame=512,framing=lines"},
		{" kind = scanner , path=/dev/serial/by-id/usb-*Honeywell*|/dev/ttyACM* , baud=115200, framing=stx ", "kind=scanner,name=scanner,path=/dev/serial/by-id/usb-*Honeywell*|/dev/ttyACM*,baud=115200,max-frame=512,framing=stx"},
		{"kind=magstripe,path=/dev/ttyUSB0,name=msr", "kind=magstripe,name=msr,path=/dev/ttyUSB0,baud=9600,max-frame=256"},
		{"kind=em4100,path=/dev/ttyUSB1", "kind=em4100,name=em4100,path=/dev/ttyUSB1,baud=9600,max-frame=32,number=dec"},
		{"kind=em4100,path=/dev/ttyUSB1,number=hex", "kind=em4100,name=em4100,path=/dev/ttyUSB1,baud=9600,max-frame=32,number=hex"},
		{"kind=uid,path=/dev/ttyUSB2,number=dec,reverse=true", "kind=uid,name=uid,path=/dev/ttyUSB2,baud=9600,max-frame=64,number=dec,reverse=true"},
		{"kind=printer,path=/dev/x", "!kind \"printer\""},
		{"kind=scanner", "!path is missing"},
		{"kind=scanner,path=/x,baud=fast", "!baud"},
		{"kind=scanner,path=/x,baud=-1", "!baud"},
		{"kind=scanner,path=/x,colour=red", "!unknown key"},
		{"kind=scanner,path", "!not key=value"},
		{"kind=magstripe,path=/x,number=hex", "!number is for"},
		{"kind=scanner,path=/x,framing=json", "!framing"},
		{"kind=em4100,path=/x,reverse=true", "!reverse is for"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			c, err := Parse(tt.spec)
			if w, isErr := strings.CutPrefix(tt.want, "!"); isErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("Parse = %v, %v; want error with %q", c, err, w)
				}
				return
			}
			if err != nil || c.String() != tt.want {
				t.Fatalf("Parse = %q, %v; want %q", c.String(), err, tt.want)
			}
			// A spec written back parses to the same device.
			again, err := Parse(c.String())
			if err != nil || again != c {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		})
	}
}

func TestList(t *testing.T) {
	var l List
	if err := l.Set("kind=scanner,path=/a;kind=magstripe,path=/b;"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("kind=scanner,path=/c"); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range l {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "scanner magstripe scanner-2" {
		t.Errorf("names %q", got)
	}
	dup := List{{Name: "x", Kind: Scanner}, {Name: "x", Kind: UID}}
	if err := dup.Check(); err == nil {
		t.Error("two devices with one name accepted")
	}
	if err := l.Set("kind=scanner"); err == nil {
		t.Error("bad spec in a list accepted")
	}
}

func TestFramers(t *testing.T) {
	tests := []struct {
		spec, in, text string
		card           bool
	}{
		{"kind=scanner,path=/x", "]Q1MCABC\r\n", "MCABC", false},
		{"kind=scanner,path=/x,framing=stx", "\x02]E06901234567892\r\n\x03", "6901234567892", false},
		{"kind=magstripe,path=/x", ";8800000001=2912101?0\r", "8800000001", true},
		{"kind=em4100,path=/x", "\x021E007B5D2119\r\n\x03", "0008084769", true},
		{"kind=uid,path=/x", "04A1B2C3D4E580\r\n", "04A1B2C3D4E580", true},
	}
	for _, tt := range tests {
		c, err := Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := c.NewFramer().Feed([]byte(tt.in))
		if len(got) != 1 || got[0].Err != nil || got[0].Text != tt.text || got[0].Card != tt.card {
			t.Errorf("%s: %q -> %+v, want %q card %v", tt.spec, tt.in, got, tt.text, tt.card)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("kind=scanner,path=/dev/serial/by-id/usb-*|/dev/ttyACM*,baud=9600")
	f.Add("kind=uid,path=/x,number=dec,reverse=true")
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := Parse(spec)
		if err != nil {
			return
		}
		if c.Path == "" || c.Baud <= 0 || c.MaxFrame <= 0 {
			t.Fatalf("accepted %q as %+v", spec, c)
		}
		c.NewFramer() // every accepted config makes a framer
	})
}

// FuzzFramers feeds any bytes, in two reads, to every kind's framer and
// parser: nothing crashes, refusals carry no data, and what a card reader
// accepts is marked as a card.
func FuzzFramers(f *testing.F) {
	f.Add([]byte("]Q1MCABC\r\n;8800000001=2912101?0\r\x021E007B5D2119\r\n\x03"), 7)
	f.Add([]byte("%B8800000001^MEMBER/CARD^2912101?J;8800000001=2912101?0\r"), 30)
	f.Add([]byte("04:A1:B2:C3:D4:E5:80\r\n2712847316\n"), 3)
	var configs []Config
	for _, spec := range []string{
		"kind=scanner,path=/x,max-frame=64", "kind=scanner,path=/x,framing=stx,max-frame=64",
		"kind=magstripe,path=/x", "kind=em4100,path=/x", "kind=em4100,path=/x,number=hex",
		"kind=uid,path=/x", "kind=uid,path=/x,number=dec,reverse=true",
	} {
		c, err := Parse(spec)
		if err != nil {
			f.Fatal(err)
		}
		configs = append(configs, c)
	}
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if split < 0 || split > len(data) {
			split = len(data)
		}
		for _, c := range configs {
			fr := c.NewFramer()
			got := append(fr.Feed(data[:split]), fr.Feed(data[split:])...)
			if last, ok := fr.Idle(); ok {
				got = append(got, last)
			}
			for _, g := range got {
				if g.Err != nil {
					if g.Text != "" || g.Card {
						t.Fatalf("%s: refused frame carries data %+v", c, g)
					}
					continue
				}
				if g.Card != (c.Kind != Scanner) || len(g.Text) > c.MaxFrame {
					t.Fatalf("%s: frame %+v", c, g)
				}
				if c.Kind != Scanner && g.Text == "" {
					t.Fatalf("%s: empty card number", c)
				}
			}
		}
	})
}
