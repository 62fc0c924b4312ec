package compat

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

func current() *descriptorpb.FileDescriptorSet {
	return SetOf(pb.File_memberpass_v1_types_proto, pb.File_memberpass_v1_sync_proto, pb.File_memberpass_v1_admin_proto)
}

// TestProtoIsAdditive fails when today's proto breaks the last release's:
// an agent of that release would stop syncing.
func TestProtoIsAdditive(t *testing.T) {
	old, err := Load(Released)
	if err != nil {
		t.Fatal(err)
	}
	if len(old.GetFile()) == 0 {
		t.Fatal("the released descriptor set is empty")
	}
	for _, p := range Check(old, current()) {
		t.Errorf("not additive against proto/compat/v1.binpb: %s", p)
	}
}

func TestCheckFindsBreaks(t *testing.T) {
	find := func(set *descriptorpb.FileDescriptorSet, file, msg string) *descriptorpb.DescriptorProto {
		for _, f := range set.GetFile() {
			if f.GetName() != file {
				continue
			}
			for _, m := range f.GetMessageType() {
				if m.GetName() == msg {
					return m
				}
			}
		}
		t.Fatalf("no message %s in %s", msg, file)
		return nil
	}
	field := func(m *descriptorpb.DescriptorProto, name string) *descriptorpb.FieldDescriptorProto {
		if f := fieldNamed(m, name); f != nil {
			return f
		}
		t.Fatalf("no field %s in %s", name, m.GetName())
		return nil
	}
	const types, sync = "memberpass/v1/types.proto", "memberpass/v1/sync.proto"
	for _, tc := range []struct {
		name   string
		change func(set *descriptorpb.FileDescriptorSet)
		want   string
	}{
		{"field removed", func(s *descriptorpb.FileDescriptorSet) {
			m := find(s, types, "Event")
			m.Field = m.Field[1:] // id = 1
		}, "field memberpass.v1.Event.id (1) removed"},
		{"field removed but reserved", func(s *descriptorpb.FileDescriptorSet) {
			m := find(s, types, "Event")
			m.Field = m.Field[1:]
			m.ReservedRange = append(m.ReservedRange, &descriptorpb.DescriptorProto_ReservedRange{Start: proto.Int32(1), End: proto.Int32(2)})
			m.ReservedName = append(m.ReservedName, "id")
		}, ""},
		{"field renumbered", func(s *descriptorpb.FileDescriptorSet) {
			field(find(s, types, "Event"), "seq").Number = proto.Int32(99)
		}, "field memberpass.v1.Event.seq renumbered 2 -> 99"},
		{"field type changed", func(s *descriptorpb.FileDescriptorSet) {
			field(find(s, types, "Event"), "seq").Type = descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
		}, "field memberpass.v1.Event.seq (2) changed type TYPE_UINT64 -> TYPE_INT64"},
		{"field made repeated", func(s *descriptorpb.FileDescriptorSet) {
			field(find(s, types, "Event"), "store_id").Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}, "field memberpass.v1.Event.store_id (4) changed cardinality"},
		{"field renamed", func(s *descriptorpb.FileDescriptorSet) {
			field(find(s, sync, "PushEventsResponse"), "acked_seq").Name = proto.String("ack")
		}, "field memberpass.v1.PushEventsResponse 1 renamed acked_seq -> ack"},
		{"message removed", func(s *descriptorpb.FileDescriptorSet) {
			for _, f := range s.GetFile() {
				if f.GetName() == sync {
					f.MessageType = slices.DeleteFunc(f.MessageType, func(m *descriptorpb.DescriptorProto) bool { return m.GetName() == "PairRequest" })
				}
			}
		}, "message memberpass.v1.PairRequest removed"},
		{"method removed", func(s *descriptorpb.FileDescriptorSet) {
			for _, f := range s.GetFile() {
				if f.GetName() == sync {
					f.Service[0].Method = f.Service[0].Method[1:] // Pair
				}
			}
		}, "method memberpass.v1.SyncService.Pair removed"},
		{"enum value removed", func(s *descriptorpb.FileDescriptorSet) {
			for _, f := range s.GetFile() {
				for _, e := range f.GetEnumType() {
					if e.GetName() == "Outcome" {
						e.Value = e.Value[:1]
					}
				}
			}
		}, "enum value memberpass.v1.Outcome.OUTCOME_APPLIED (1) removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := current()
			changed := proto.Clone(old).(*descriptorpb.FileDescriptorSet)
			tc.change(changed)
			got := Check(old, changed)
			if tc.want == "" {
				if len(got) > 0 {
					t.Errorf("allowed change reported: %v", got)
				}
				return
			}
			if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("got %v, want a problem containing %q", got, tc.want)
			}
			// Adding is always fine: the changed set against itself plus a field.
			if len(Check(changed, changed)) != 0 {
				t.Error("a set breaks itself")
			}
		})
	}
}
