package messaging

import (
	"context"
	"time"
)

// Store keeps the service's state. Implementations must make Claim,
// Reserve and Finish atomic against other dispatchers sharing the store
// (several cloud processes share one database).
type Store interface {
	Policy(ctx context.Context, brand string) (Policy, error)
	SetPolicy(ctx context.Context, p Policy) error

	PutTemplate(ctx context.Context, t Template) error
	// Template returns a template, or a NotFound error.
	Template(ctx context.Context, brand, id string) (Template, error)
	Templates(ctx context.Context, brand string) ([]Template, error)

	// SetConsent records a member's consent for a channel.
	SetConsent(ctx context.Context, c Consent) error
	// Consent returns the member's consent for a channel; ok is false when
	// none was ever recorded.
	Consent(ctx context.Context, brand, member string, ch Channel) (c Consent, ok bool, err error)
	// Consents returns the recorded consents of several members on a
	// channel, by member: one query for a dispatcher's batch.
	Consents(ctx context.Context, brand string, ch Channel, members []string) (map[string]Consent, error)
	// ConsentsByAddress finds the consents on a channel with an address
	// (an inbound SMS from a phone), in every brand if brand is empty.
	ConsentsByAddress(ctx context.Context, brand string, ch Channel, address string) ([]Consent, error)

	// Enqueue stores a new message (Status queued, ID assigned) unless a
	// message with the same brand and Key exists; then it returns that one
	// and created false.
	Enqueue(ctx context.Context, m Message) (stored Message, created bool, err error)
	// EnqueueBatch stores many messages in one transaction, skipping those
	// whose key exists, and says how many were new.
	EnqueueBatch(ctx context.Context, ms []Message) (created int, err error)
	// Claim leases up to limit due messages to owner until now+lease: those
	// queued or held with NotBefore <= now, and those sending whose lease
	// has run out (a dispatcher died with them).
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// Reserve counts leased messages against their members' caps and
	// moves them to sending, in one transaction (one commit for a batch),
	// each atomically with its count: a message whose member already has
	// PerDay messages of its category on its channel since DayStart, or
	// PerWeek (if > 0) since WeekStart, is left as it is with OK false. A
	// message already reserved moves to sending without counting again.
	// Reserve records each message's To, the address it goes to. A message
	// whose lease owner is no longer owner gets LeaseLost.
	Reserve(ctx context.Context, owner string, now time.Time, rs []Reservation) ([]ReserveResult, error)
	// Finish records the outcomes of leased messages, in one transaction,
	// and ends their leases: status, reason, not-before, attempts, provider
	// id, sent time, reservation and address. It returns the IDs of the
	// messages owner no longer held (left unchanged).
	Finish(ctx context.Context, owner string, now time.Time, ms []Message) (lost []string, err error)

	// Message returns a message, or NotFound.
	Message(ctx context.Context, brand, id string) (Message, error)
	// MemberMessages returns a member's messages, newest first.
	MemberMessages(ctx context.Context, brand, member string, limit int) ([]Message, error)
	// History returns a message's status changes, oldest first.
	History(ctx context.Context, brand, id string) ([]StatusChange, error)
	// Receipt applies a provider's delivery report to the message it sent
	// under providerID on a channel, or, when providerID is empty or
	// unknown, to the message with ID messageID (reports that echo our id):
	// delivered, or failed with reason. It returns the message, or NotFound.
	Receipt(ctx context.Context, ch Channel, providerID, messageID string, delivered bool, reason string, at time.Time) (Message, error)
	// Counts returns how many of a brand's messages are in each status.
	Counts(ctx context.Context, brand string) (map[Status]int, error)
}

// Reservation asks to count one message against its member's caps.
type Reservation struct {
	Message             Message
	DayStart, WeekStart time.Time
	PerDay, PerWeek     int
}

// ReserveResult is the answer for one Reservation.
type ReserveResult struct {
	OK        bool
	LeaseLost bool
	// DayCount is the member's count for the day, so the caller can say
	// which cap stopped the message.
	DayCount int
}
