package cloud

import (
	"crypto/sha256"
	"encoding/json"
)

// contentHashVersion prefixes what is hashed, so a future encoding can be
// told apart from this one.
const contentHashVersion = "memberpass-event-v1\n"

// ContentHash is the SHA-256 of a canonical encoding of what a device said
// in an event: its id, seq, time (in UTC), store, member, staff, kind and
// body, not what the cloud adds (the device it came from, the receipt
// time, the outcome). The cloud keeps it with the event, so the same id
// sent again with other content is told apart from a true resend
// (promise 10).
//
// The encoding is encoding/json of the Event with those fields cleared:
// struct fields in declaration order, no maps. A field added to Event or
// to a body later must be omitempty or omitzero, so the events stored
// before it hash the same.
func ContentHash(e Event) []byte {
	e.DeviceID, e.Malformed = "", ""
	e.OccurredAt = e.OccurredAt.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		// Only a time beyond year 9999 fails; hash what is left so the
		// event can still be told apart and rejected.
		e.OccurredAt = e.OccurredAt.AddDate(-e.OccurredAt.Year()+1, 0, 0)
		b, _ = json.Marshal(e)
	}
	sum := sha256.Sum256(append([]byte(contentHashVersion), b...))
	return sum[:]
}
