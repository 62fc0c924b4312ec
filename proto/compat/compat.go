// Package compat keeps the wire contract additive, so that an upgrade never
// strands a store: an agent one release older must keep syncing with a
// newer cloud, and a newer agent with an older cloud. v1.binpb is the
// descriptor set of the last release's proto (protoc --include_imports
// --descriptor_set_out); Check compares today's descriptors with it and
// lists every change an older peer could not read: a message, field, enum
// value, service or method removed, a field renumbered, renamed or given
// another type, cardinality or oneof. Adding is always allowed.
//
// After a release, refresh the snapshot with `make proto-snapshot`.
package compat

import (
	_ "embed"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Released is the descriptor set of the last release's proto.
//
//go:embed v1.binpb
var Released []byte

// Load decodes a descriptor set.
func Load(raw []byte) (*descriptorpb.FileDescriptorSet, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("decode descriptor set: %w", err)
	}
	return &set, nil
}

// SetOf builds a descriptor set from compiled files (and their imports).
func SetOf(files ...protoreflect.FileDescriptor) *descriptorpb.FileDescriptorSet {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(f protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imports := f.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	for _, f := range files {
		add(f)
	}
	return set
}

// Check lists what new breaks of old, sorted; empty when new only adds.
// Only files of package memberpass.* are compared (imports such as
// google/protobuf are not ours to keep).
func Check(old, new *descriptorpb.FileDescriptorSet) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	newMsgs, newEnums, newSvcs := index(new)
	oldMsgs, oldEnums, oldSvcs := index(old)
	for name, om := range oldMsgs {
		nm, ok := newMsgs[name]
		if !ok {
			bad("message %s removed", name)
			continue
		}
		byNumber := map[int32]*descriptorpb.FieldDescriptorProto{}
		for _, f := range nm.GetField() {
			byNumber[f.GetNumber()] = f
		}
		for _, of := range om.GetField() {
			nf, ok := byNumber[of.GetNumber()]
			if !ok {
				if renumbered := fieldNamed(nm, of.GetName()); renumbered != nil {
					bad("field %s.%s renumbered %d -> %d", name, of.GetName(), of.GetNumber(), renumbered.GetNumber())
				} else if !reserved(nm, of) {
					bad("field %s.%s (%d) removed without reserving its number and name", name, of.GetName(), of.GetNumber())
				}
				continue
			}
			if nf.GetName() != of.GetName() {
				bad("field %s %d renamed %s -> %s", name, of.GetNumber(), of.GetName(), nf.GetName())
			}
			if nf.GetType() != of.GetType() || nf.GetTypeName() != of.GetTypeName() {
				bad("field %s.%s (%d) changed type %s%s -> %s%s", name, of.GetName(), of.GetNumber(), of.GetType(), of.GetTypeName(), nf.GetType(), nf.GetTypeName())
			}
			if nf.GetLabel() != of.GetLabel() {
				bad("field %s.%s (%d) changed cardinality %s -> %s", name, of.GetName(), of.GetNumber(), of.GetLabel(), nf.GetLabel())
			}
			if oneofName(om, of) != oneofName(nm, nf) {
				bad("field %s.%s (%d) moved from oneof %q to %q", name, of.GetName(), of.GetNumber(), oneofName(om, of), oneofName(nm, nf))
			}
		}
	}
	for name, oe := range oldEnums {
		ne, ok := newEnums[name]
		if !ok {
			bad("enum %s removed", name)
			continue
		}
		values := map[int32]string{}
		for _, v := range ne.GetValue() {
			values[v.GetNumber()] = v.GetName()
		}
		for _, v := range oe.GetValue() {
			if got, ok := values[v.GetNumber()]; !ok {
				bad("enum value %s.%s (%d) removed", name, v.GetName(), v.GetNumber())
			} else if got != v.GetName() {
				bad("enum value %s %d renamed %s -> %s", name, v.GetNumber(), v.GetName(), got)
			}
		}
	}
	for name, osvc := range oldSvcs {
		ns, ok := newSvcs[name]
		if !ok {
			bad("service %s removed", name)
			continue
		}
		methods := map[string]*descriptorpb.MethodDescriptorProto{}
		for _, m := range ns.GetMethod() {
			methods[m.GetName()] = m
		}
		for _, om := range osvc.GetMethod() {
			nm, ok := methods[om.GetName()]
			if !ok {
				bad("method %s.%s removed", name, om.GetName())
				continue
			}
			if nm.GetInputType() != om.GetInputType() || nm.GetOutputType() != om.GetOutputType() ||
				nm.GetClientStreaming() != om.GetClientStreaming() || nm.GetServerStreaming() != om.GetServerStreaming() {
				bad("method %s.%s changed its signature", name, om.GetName())
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// index lists the messages (nested ones too), enums and services of our
// own files by full name.
func index(set *descriptorpb.FileDescriptorSet) (map[string]*descriptorpb.DescriptorProto, map[string]*descriptorpb.EnumDescriptorProto, map[string]*descriptorpb.ServiceDescriptorProto) {
	msgs := map[string]*descriptorpb.DescriptorProto{}
	enums := map[string]*descriptorpb.EnumDescriptorProto{}
	svcs := map[string]*descriptorpb.ServiceDescriptorProto{}
	var walk func(prefix string, ms []*descriptorpb.DescriptorProto, es []*descriptorpb.EnumDescriptorProto)
	walk = func(prefix string, ms []*descriptorpb.DescriptorProto, es []*descriptorpb.EnumDescriptorProto) {
		for _, e := range es {
			enums[prefix+e.GetName()] = e
		}
		for _, m := range ms {
			msgs[prefix+m.GetName()] = m
			walk(prefix+m.GetName()+".", m.GetNestedType(), m.GetEnumType())
		}
	}
	for _, f := range set.GetFile() {
		pkg := f.GetPackage()
		if len(pkg) < len("memberpass") || pkg[:len("memberpass")] != "memberpass" {
			continue
		}
		walk(pkg+".", f.GetMessageType(), f.GetEnumType())
		for _, s := range f.GetService() {
			svcs[pkg+"."+s.GetName()] = s
		}
	}
	return msgs, enums, svcs
}

func fieldNamed(m *descriptorpb.DescriptorProto, name string) *descriptorpb.FieldDescriptorProto {
	for _, f := range m.GetField() {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// reserved says whether m reserves a removed field's number and name, so
// neither can come back with another meaning.
func reserved(m *descriptorpb.DescriptorProto, f *descriptorpb.FieldDescriptorProto) bool {
	number := false
	for _, r := range m.GetReservedRange() {
		if f.GetNumber() >= r.GetStart() && f.GetNumber() < r.GetEnd() {
			number = true
		}
	}
	name := false
	for _, n := range m.GetReservedName() {
		name = name || n == f.GetName()
	}
	return number && name
}

func oneofName(m *descriptorpb.DescriptorProto, f *descriptorpb.FieldDescriptorProto) string {
	// proto3 optional fields sit in a synthetic oneof of their own.
	if f.OneofIndex == nil || f.GetProto3Optional() {
		return ""
	}
	return m.GetOneofDecl()[f.GetOneofIndex()].GetName()
}
