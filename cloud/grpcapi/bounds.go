package grpcapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Every string, byte string and list that enters from a device, a page or
// HQ is bounded here, at the edge, before anything is stored: a record too
// big to send back (a 5 MiB name) would otherwise stop every agent's pull
// at its cursor. The limits are chosen by field name, so a field added to
// the protos later is bounded by the defaults without anyone remembering.

// fieldLimit is what one field may hold.
type fieldLimit struct {
	// Bytes bounds a string or byte string, per element for a list.
	Bytes int
	// Items bounds a list (or map).
	Items int
	// Lines allows tab and newline (free text); other control characters
	// (ESC, NUL, DEL, C1) are never allowed in a string.
	Lines bool
}

// Limits by kind of field. Names are 128 bytes (42 Chinese characters);
// identifiers, codes and phones 64; free text 4 KiB.
const (
	maxNameBytes     = 128
	maxIDBytes       = 64
	maxTagBytes      = 32
	maxTextBytes     = 4096
	maxDefaultItems  = 1000
	maxDefaultBinary = 64 << 10
	maxCSVBytes      = 8 << 20
)

// limitsByField overrides the defaults for fields whose name says what
// they hold (the proto field name, wherever it appears).
var limitsByField = map[string]fieldLimit{
	"tags":         {Bytes: maxTagBytes, Items: 32},
	"card_numbers": {Bytes: maxIDBytes, Items: 16},
	"coupon_codes": {Bytes: maxIDBytes, Items: 20},
	"items":        {Items: 500},
	"events":       {Items: 1000},
	"member_ids":   {Bytes: maxIDBytes, Items: 10000},
	"store_ids":    {Bytes: maxIDBytes, Items: 1000},
	"tiers":        {Items: 20},
	"top_up_rules": {Items: 20},
	"bonus_days":   {Items: 400},
	"csv":          {Bytes: maxCSVBytes},
	"note":         {Bytes: maxTextBytes, Lines: true},
	"reason":       {Bytes: maxTextBytes, Lines: true},
	"detail":       {Bytes: maxTextBytes, Lines: true},
	"phone":        {Bytes: 32},
	"birthday":     {Bytes: 16},
	"currency":     {Bytes: 8},
	"sku":          {Bytes: maxIDBytes},
	"local_ref":    {Bytes: maxIDBytes},
	"page_token":   {Bytes: maxIDBytes},
	"pairing_code": {Bytes: maxIDBytes},
	"free_item":    {Bytes: maxNameBytes},
	"rules_json":   {Bytes: 64 << 10},
}

// limitFor is the limit of a field: by its name, else by its shape.
func limitFor(fd protoreflect.FieldDescriptor) fieldLimit {
	name := string(fd.Name())
	l, ok := limitsByField[name]
	if !ok {
		switch {
		case name == "name" || strings.HasSuffix(name, "_name") || strings.HasPrefix(name, "name_"):
			l = fieldLimit{Bytes: maxNameBytes}
		case name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids") ||
			name == "code" || strings.HasSuffix(name, "_code") || strings.HasSuffix(name, "_ref"):
			l = fieldLimit{Bytes: maxIDBytes}
		case fd.Kind() == protoreflect.BytesKind:
			l = fieldLimit{Bytes: maxDefaultBinary}
		default:
			l = fieldLimit{Bytes: maxTextBytes, Lines: true}
		}
	}
	if l.Bytes == 0 {
		l.Bytes = maxTextBytes
	}
	if l.Items == 0 {
		l.Items = maxDefaultItems
	}
	return l
}

// BoundsError names the field that broke its limit and the limit.
type BoundsError struct {
	Field string
	What  string
}

func (e *BoundsError) Error() string { return e.Field + " " + e.What }

// checkBounds walks a message and returns the first field beyond its
// limit. skip names top-level fields checked elsewhere (a push's events
// are checked one by one, so one bad event is rejected alone).
func checkBounds(m proto.Message, skip ...string) error {
	return walk(m.ProtoReflect(), "", skip)
}

func walk(m protoreflect.Message, prefix string, skip []string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if prefix == "" && contains(skip, string(fd.Name())) {
			return true
		}
		path := prefix + string(fd.Name())
		l := limitFor(fd)
		switch {
		case fd.IsList():
			list := v.List()
			if list.Len() > l.Items {
				err = &BoundsError{path, fmt.Sprintf("has %d entries; at most %d", list.Len(), l.Items)}
				return false
			}
			for i := range list.Len() {
				if err = checkValue(fd, l, list.Get(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
					return false
				}
			}
		case fd.IsMap():
			mp := v.Map()
			if mp.Len() > l.Items {
				err = &BoundsError{path, fmt.Sprintf("has %d entries; at most %d", mp.Len(), l.Items)}
				return false
			}
			mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				p := path + "[" + k.String() + "]"
				if err = checkString(fieldLimit{Bytes: maxIDBytes}, k.String(), p); err != nil {
					return false
				}
				err = checkValue(fd.MapValue(), limitFor(fd.MapValue()), mv, p)
				return err == nil
			})
		default:
			err = checkValue(fd, l, v, path)
		}
		return err == nil
	})
	return err
}

func checkValue(fd protoreflect.FieldDescriptor, l fieldLimit, v protoreflect.Value, path string) error {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return checkString(l, v.String(), path)
	case protoreflect.BytesKind:
		if n := len(v.Bytes()); n > l.Bytes {
			return &BoundsError{path, fmt.Sprintf("is %d bytes; at most %d", n, l.Bytes)}
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return walk(v.Message(), path+".", nil)
	}
	return nil
}

func checkString(l fieldLimit, s, path string) error {
	if len(s) > l.Bytes {
		return &BoundsError{path, fmt.Sprintf("is %d bytes; at most %d", len(s), l.Bytes)}
	}
	for i, r := range s {
		if isControl(r) && !(l.Lines && (r == '\n' || r == '\t' || r == '\r')) {
			return &BoundsError{path, fmt.Sprintf("holds control character %U at byte %d", r, i)}
		}
	}
	return nil
}

// isControl is a C0 or C1 control character or DEL: what moves a terminal's
// cursor or changes its colours when printed raw.
func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clampMessage truncates, in place, every string and list of an outgoing
// message to its limit (strings at a UTF-8 boundary) and replaces control
// characters. It is for records stored before the edge bounded them: such
// a record is sent shortened rather than never, so it cannot stop a pull.
func clampMessage(m proto.Message) { clamp(m.ProtoReflect()) }

func clamp(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		l := limitFor(fd)
		switch {
		case fd.IsList():
			list := v.List()
			if list.Len() > l.Items {
				list.Truncate(l.Items)
			}
			for i := range list.Len() {
				if nv, ok := clampValue(fd, l, list.Get(i)); ok {
					list.Set(i, nv)
				}
			}
		case fd.IsMap():
			// No map fields go out today; leave them whole.
		default:
			if nv, ok := clampValue(fd, l, v); ok {
				m.Set(fd, nv)
			}
		}
		return true
	})
}

func clampValue(fd protoreflect.FieldDescriptor, l fieldLimit, v protoreflect.Value) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := v.String()
		c := clampString(s, l.Bytes, l.Lines)
		return protoreflect.ValueOfString(c), c != s
	case protoreflect.BytesKind:
		if b := v.Bytes(); len(b) > l.Bytes {
			return protoreflect.ValueOfBytes(b[:l.Bytes]), true
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		clamp(v.Message())
	}
	return v, false
}

// clampString cuts s to at most max bytes at a rune boundary and replaces
// control characters with U+FFFD.
func clampString(s string, max int, lines bool) string {
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if strings.IndexFunc(s, func(r rune) bool { return isControl(r) && !(lines && (r == '\n' || r == '\t')) }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) && !(lines && (r == '\n' || r == '\t')) {
			return utf8.RuneError
		}
		return r
	}, s)
}
