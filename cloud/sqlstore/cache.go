package sqlstore

import (
	"database/sql"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// cache is what a transaction knows of the rows it read or wrote, so the
// point reads of applying a push (its device, brand, members, events,
// activity, code uses, purchase effects, sequences) are answered without a
// round trip. Every write to these rows goes through the transaction's
// methods, which keep the cache equal to the database plus the buffer; a
// write the cache cannot follow (a card moving between members, a prune)
// drops the entries it touches. The cache lives and dies with its
// transaction.
type cache struct {
	brands   map[string]cloud.Brand
	devices  map[string]cloud.Device
	members  map[string]*memberEntry
	events   map[string]*eventEntry
	activity map[string]*activityEntry
	codeUses map[string]*cloud.CodeUse // nil: known absent
	effects  map[string]*cloud.PurchaseEffect
	seqs     map[string]uint64 // the last number given
}

func newCache() cache {
	return cache{
		brands: map[string]cloud.Brand{}, devices: map[string]cloud.Device{}, members: map[string]*memberEntry{},
		events: map[string]*eventEntry{}, activity: map[string]*activityEntry{}, codeUses: map[string]*cloud.CodeUse{},
		effects: map[string]*cloud.PurchaseEffect{}, seqs: map[string]uint64{},
	}
}

func ck(brand, id string) string { return brand + "\x00" + id }

type memberEntry struct {
	m     cloud.Member // with the cards bound to it
	found bool
	phone string // the phone as stored
}

type eventEntry struct {
	e     cloud.StoredEvent
	found bool
}

// activityEntry is a member's activity from day `from` on, by day.
type activityEntry struct {
	from string
	days map[string]*[2]int64 // visits, spend
}

func (t *tx) Brand(id string) (cloud.Brand, error) {
	if b, ok := t.c.brands[id]; ok {
		return b, nil
	}
	var b cloud.Brand
	var key []byte
	found, err := t.one("read brand", `select `+brandCols+` from brands where brand_id = $1`, []any{id},
		&b.ID, &b.Name, &b.Currency, &b.TimeZone, blob{&key}, jsonCol{&b.Programme}, tm{&b.CreatedAt})
	if err != nil {
		return b, err
	}
	if !found {
		return b, notFound("brand %q", id)
	}
	b.MemberCodeKey = key
	t.c.brands[id] = b
	return b, nil
}

func (t *tx) Device(brand, id string) (cloud.Device, error) {
	if d, ok := t.c.devices[ck(brand, id)]; ok {
		return d, nil
	}
	return t.device(brand, id, "")
}

func (t *tx) DeviceForPush(brand, id string) (cloud.Device, error) {
	return t.device(brand, id, t.e.forUpdate())
}

func (t *tx) device(brand, id, lock string) (cloud.Device, error) {
	var d cloud.Device
	found := false
	err := t.query("read device", `select `+deviceCols+` from devices where brand_id = $1 and device_id = $2`+lock, []any{brand, id}, func(r *sql.Rows) error {
		var err error
		d, err = scanDevice(r)
		found = true
		return err
	})
	if err == nil && !found {
		err = notFound("device %q", id)
	}
	if err == nil {
		t.c.devices[ck(brand, id)] = d
	}
	return d, err
}

func (t *tx) PutDevice(d cloud.Device) error {
	t.w.put(devicesT, d.BrandID, d.ID, d.StoreID, d.Name, d.SecretHash, int64(d.AckedSeq), ts(d.PairedAt), nts(d.LastSeenAt), d.Revoked)
	t.c.devices[ck(d.BrandID, d.ID)] = d
	return nil
}

// NextSeq takes the first number of a sequence in a transaction from the
// database (locking the row until commit) and counts on locally; the last
// number given is written back at flush.
func (t *tx) NextSeq(brand, name string) (uint64, error) {
	k := ck(brand, name)
	if n, ok := t.c.seqs[k]; ok {
		n++
		t.c.seqs[k] = n
		t.w.put(seqT, brand, name, int64(n))
		return n, nil
	}
	var n uint64
	_, err := t.one("next "+name+" number", `insert into sequences (brand_id, name, value) values ($1, $2, 1)
		on conflict (brand_id, name) do update set value = sequences.value + 1 returning value`, []any{brand, name}, u64{&n})
	if err == nil {
		t.c.seqs[k] = n
	}
	return n, err
}

func (t *tx) Member(brand, id string) (cloud.Member, error) {
	got, err := t.MembersByIDs(brand, []string{id})
	if err != nil {
		return cloud.Member{}, err
	}
	m, ok := got[id]
	if !ok {
		return m, notFound("member %q", id)
	}
	return m, nil
}

func (t *tx) MembersByIDs(brand string, list []string) (map[string]cloud.Member, error) {
	out := make(map[string]cloud.Member, len(list))
	var missing []string
	for _, id := range list {
		if e, ok := t.c.members[ck(brand, id)]; ok {
			if e.found {
				out[id] = e.m
			}
			continue
		}
		missing = append(missing, id)
	}
	for _, part := range chunks(missing, maxInList) {
		got := map[string]cloud.Member{}
		var found []string
		err := t.query("read members", `select `+memberCols+` from members where brand_id = $1 and member_id in (`+t.e.placeholders(2, len(part))+`)`,
			ids([]any{brand}, part), func(r *sql.Rows) error {
				m, err := scanMember(r)
				got[m.ID] = m
				found = append(found, m.ID)
				return err
			})
		if err != nil {
			return nil, err
		}
		if err := t.cardsOf(brand, found, got); err != nil {
			return nil, err
		}
		for _, id := range part {
			m, ok := got[id]
			t.c.members[ck(brand, id)] = &memberEntry{m: m, found: ok, phone: m.Phone}
			if ok {
				out[id] = m
			}
		}
	}
	return out, nil
}

func (t *tx) PutMember(m cloud.Member) error {
	k := ck(m.BrandID, m.ID)
	e := t.c.members[k]
	if m.Phone != "" && (e == nil || !e.found || e.phone != m.Phone) {
		owner, err := t.MemberIDByPhone(m.BrandID, m.Phone)
		if err != nil && !cloud.IsNotFound(err) {
			return err
		}
		if err == nil && owner != m.ID {
			return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", m.Phone, owner)
		}
	}
	s := m.Source
	t.w.put(membersT, m.BrandID, m.ID, ns(m.Phone), m.Name, ns(m.Birthday), int64(m.Visits), ts(m.CreatedAt), nts(m.LastVisitAt),
		s.Channel, ns(s.StoreID), ns(s.StaffID), ns(s.CampaignID), ns(s.ReferrerID),
		m.Consent, js(m.Tags), m.TierID, nts(m.TierSince), m.Points, m.SVPrincipal, m.SVBonus, m.TotalSpendFen, ns(m.MergedInto), m.BirthdayLunar,
		ns(s.Platform), ns(s.DealID))
	if e == nil || !e.found {
		// A new member's cards are bound after it (PutCard): read them then.
		delete(t.c.members, k)
		return nil
	}
	m.Cards = e.m.Cards
	t.c.members[k] = &memberEntry{m: m, found: true, phone: m.Phone}
	return nil
}

func (t *tx) PutCard(c cloud.Card) error {
	_, err := t.exec("write card", `insert into cards (brand_id, number, member_id, revoked, bound_at) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, number) do update set member_id = excluded.member_id, revoked = excluded.revoked`,
		c.BrandID, c.Number, c.MemberID, c.Revoked, now())
	// The card may have left another member: read members' cards again.
	t.c.members = map[string]*memberEntry{}
	return err
}

func (t *tx) Event(brand, id string) (cloud.StoredEvent, error) {
	got, err := t.EventsByIDs(brand, []string{id})
	if err != nil {
		return cloud.StoredEvent{}, err
	}
	e, ok := got[id]
	if !ok {
		return e, notFound("event %q", id)
	}
	return e, nil
}

func (t *tx) EventsByIDs(brand string, list []string) (map[string]cloud.StoredEvent, error) {
	out := make(map[string]cloud.StoredEvent, len(list))
	var missing []string
	for _, id := range list {
		if e, ok := t.c.events[ck(brand, id)]; ok {
			if e.found {
				out[id] = e.e
			}
			continue
		}
		missing = append(missing, id)
	}
	for _, part := range chunks(missing, maxInList) {
		err := t.query("read events", `select `+eventCols+` from events where brand_id = $1 and event_id in (`+t.e.placeholders(2, len(part))+`)`,
			ids([]any{brand}, part), func(r *sql.Rows) error {
				e, _, err := scanEvent(r)
				out[e.ID] = e
				return err
			})
		if err != nil {
			return nil, err
		}
		for _, id := range part {
			e, ok := out[id]
			t.c.events[ck(brand, id)] = &eventEntry{e: e, found: ok}
		}
	}
	return out, nil
}

func (t *tx) PutEvent(e cloud.StoredEvent) error {
	k := ck(e.BrandID, e.ID)
	if c, ok := t.c.events[k]; ok && c.found {
		return cloud.Errorf(cloud.Conflict, "event %s is already held", e.ID)
	}
	pos, err := t.NextSeq(e.BrandID, "eventlog")
	if err != nil {
		return err
	}
	m := eventMoney(e.Event)
	t.w.put(eventsT, e.BrandID, e.ID, int64(pos), e.DeviceID, int64(e.Seq), e.StoreID, ns(e.MemberID), ns(e.StaffID), string(e.Kind), string(e.Outcome), ns(e.Reason),
		ts(e.OccurredAt), ts(e.ReceivedAt), e.ContentHash, m[0], m[1], m[2], m[3], m[4], m[5],
		js(eventDetail{e.Visit, e.Purchase, e.TopUp, e.Refund, e.Voucher, e.Enrolment, e.ApprovedBy}))
	t.c.events[k] = &eventEntry{e: e, found: true}
	return nil
}

func (t *tx) AppendChange(brand string, kind cloud.ChangeKind, key string) (uint64, error) {
	seq, err := t.NextSeq(brand, "change")
	if err != nil {
		return 0, err
	}
	t.w.put(changesT, brand, int64(seq), string(kind), key)
	return seq, nil
}

func (t *tx) AppendConflict(brand string, c cloud.ConflictRecord) (cloud.ConflictRecord, error) {
	seq, err := t.NextSeq(brand, "conflict")
	if err != nil {
		return c, err
	}
	c.Seq = seq
	t.w.put(conflictT, brand, int64(seq), ts(c.At), c.Kind, ns(c.EventID), ns(c.DeviceID), ns(c.StoreID), ns(c.MemberID), c.Detail, c.Resolution, c.AmountFen)
	return c, nil
}

func (t *tx) AppendPoints(brand string, e cloud.PointsEntry) (cloud.PointsEntry, error) {
	seq, err := t.NextSeq(brand, "points")
	if err != nil {
		return e, err
	}
	e.Seq = seq
	t.w.put(pointsT, brand, int64(seq), e.MemberID, ts(e.At), e.Delta, e.Reason, ns(e.EventID), nts(e.ExpiresAt), ns(e.Note))
	return e, nil
}

func (t *tx) AppendStoredValue(brand string, e cloud.StoredValueEntry) (cloud.StoredValueEntry, error) {
	seq, err := t.NextSeq(brand, "storedvalue")
	if err != nil {
		return e, err
	}
	e.Seq = seq
	t.w.put(svT, brand, int64(seq), e.MemberID, ts(e.At), e.PrincipalDelta, e.BonusDelta, e.Reason, ns(e.EventID), ns(e.Note))
	return e, nil
}

func (t *tx) AppendTierChange(brand string, c cloud.TierChange) error {
	seq, err := t.NextSeq(brand, "tierlog")
	if err != nil {
		return err
	}
	t.w.put(tiersT, brand, int64(seq), c.MemberID, ts(c.At), ns(c.From), c.To, c.Reason)
	return nil
}

func (t *tx) PutPointsLot(brand string, l cloud.PointsLot) error {
	if l.Remaining <= 0 {
		t.w.del(lotsT, brand, l.MemberID, int64(l.Seq))
		return nil
	}
	t.w.put(lotsT, brand, l.MemberID, int64(l.Seq), nts(l.ExpiresAt), l.Remaining)
	return nil
}

// loadActivity makes sure the cache holds the activity of members from
// day on, reading what it lacks in one query.
func (t *tx) loadActivity(brand string, members []string, day string) error {
	var need []string
	for _, id := range members {
		if e := t.c.activity[ck(brand, id)]; e == nil || e.from > day {
			need = append(need, id)
		}
	}
	for _, part := range chunks(need, maxInList) {
		got := map[string]*activityEntry{}
		for _, id := range part {
			got[id] = &activityEntry{from: day, days: map[string]*[2]int64{}}
		}
		err := t.query("read activity", `select member_id, day, visits, spend_fen from member_activity
			where brand_id = $1 and day >= $2 and member_id in (`+t.e.placeholders(3, len(part))+`)`, ids([]any{brand, day}, part), func(r *sql.Rows) error {
			var id string
			var d time.Time
			var a [2]int64
			if err := r.Scan(&id, tm{&d}, &a[0], &a[1]); err != nil {
				return err
			}
			got[id].days[d.Format(time.DateOnly)] = &a
			return nil
		})
		if err != nil {
			return err
		}
		for id, e := range got {
			t.c.activity[ck(brand, id)] = e
		}
	}
	return nil
}

func (t *tx) PrefetchActivity(brand string, memberIDs []string, day time.Time) error {
	return t.loadActivity(brand, memberIDs, dayOf(day))
}

func (t *tx) AddActivity(brand, memberID string, day time.Time, visits int, spendFen int64) error {
	d := dayOf(day)
	if err := t.loadActivity(brand, []string{memberID}, d); err != nil {
		return err
	}
	e := t.c.activity[ck(brand, memberID)]
	a := e.days[d]
	if a == nil {
		a = &[2]int64{}
		e.days[d] = a
	}
	a[0] += int64(visits)
	a[1] += spendFen
	t.w.put(activityT, brand, memberID, d, a[0], a[1])
	return nil
}

func (t *tx) ActivitySince(brand, memberID string, day time.Time) (visits int, spendFen int64, err error) {
	d := dayOf(day)
	if err := t.loadActivity(brand, []string{memberID}, d); err != nil {
		return 0, 0, err
	}
	for k, a := range t.c.activity[ck(brand, memberID)].days {
		if k >= d {
			visits += int(a[0])
			spendFen += a[1]
		}
	}
	return visits, spendFen, nil
}

func (t *tx) CodeUse(brand, ref string) (cloud.CodeUse, error) {
	k := ck(brand, ref)
	u, ok := t.c.codeUses[k]
	if !ok {
		got := cloud.CodeUse{Ref: ref}
		found, err := t.one("read member code use", `select event_id, store_id, device_id, member_id, expires_at from member_code_uses where brand_id = $1 and ref = $2`,
			[]any{brand, ref}, &got.EventID, &got.StoreID, &got.DeviceID, &got.MemberID, tm{&got.ExpiresAt})
		if err != nil {
			return got, err
		}
		if found {
			u = &got
		}
		t.c.codeUses[k] = u
	}
	if u == nil {
		return cloud.CodeUse{}, notFound("member code use %q", ref)
	}
	return *u, nil
}

func (t *tx) PutCodeUse(brand string, u cloud.CodeUse) error {
	t.w.put(codeUsesT, brand, u.Ref, u.EventID, u.StoreID, u.DeviceID, u.MemberID, ts(u.ExpiresAt))
	u.ExpiresAt = ts(u.ExpiresAt)
	t.c.codeUses[ck(brand, u.Ref)] = &u
	return nil
}

func (t *tx) PruneCodeUses(brand string, at time.Time, limit int) (int, error) {
	res, err := t.exec("forget old member code uses", `delete from member_code_uses where brand_id = $1 and ref in
		(select ref from member_code_uses where brand_id = $1 and expires_at < $2 order by expires_at limit $3)`, brand, ts(at), limit)
	if err != nil {
		return 0, err
	}
	t.c.codeUses = map[string]*cloud.CodeUse{}
	n, err := res.RowsAffected()
	return int(n), err
}

func (t *tx) Effect(brand, eventID string) (cloud.PurchaseEffect, error) {
	k := ck(brand, eventID)
	e, ok := t.c.effects[k]
	if !ok {
		got := cloud.PurchaseEffect{EventID: eventID}
		found, err := t.one("read purchase effect", `select member_id, points_earned, points_burned, principal_spent_fen, bonus_spent_fen, net_fen, refunded, refunded_event_id
			from purchase_effects where brand_id = $1 and event_id = $2`, []any{brand, eventID},
			&got.MemberID, &got.PointsEarned, &got.PointsBurned, &got.PrincipalSpent, &got.BonusSpent, &got.NetFen, boolean{&got.Refunded}, str{&got.RefundedEventID})
		if err != nil {
			return got, err
		}
		if found {
			e = &got
		}
		t.c.effects[k] = e
	}
	if e == nil {
		return cloud.PurchaseEffect{}, notFound("purchase %q", eventID)
	}
	return *e, nil
}

func (t *tx) PutEffect(brand string, e cloud.PurchaseEffect) error {
	t.w.put(effectsT, brand, e.EventID, e.MemberID, e.PointsEarned, e.PointsBurned, e.PrincipalSpent, e.BonusSpent, e.NetFen, e.Refunded, ns(e.RefundedEventID))
	t.c.effects[ck(brand, e.EventID)] = &e
	return nil
}
