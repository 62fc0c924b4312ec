// Package storetest is the conformance suite every cloud.Storage must pass:
// the same domain-level tests (members, events, ledgers, coupons, the
// change log, transactions) run against SQLite and PostgreSQL.
package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// Opener makes a fresh, empty storage for one test.
type Opener func(t *testing.T) cloud.Storage

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, cloud.Storage)
	}{
		{"Brands", testBrands},
		{"StoresDevicesPairings", testStoresDevicesPairings},
		{"MemberRoundTrip", testMemberRoundTrip},
		{"PhoneBelongsToOneMember", testPhone},
		{"MembersInIDOrder", testMembersIterate},
		{"Events", testEvents},
		{"ChangeLog", testChanges},
		{"CodeUses", testCodeUses},
		{"PointsLedgerAndLots", testPoints},
		{"StoredValueAndTiers", testStoredValueAndTiers},
		{"Activity", testActivity},
		{"CouponsAndHistory", testCoupons},
		{"VouchersConflictsRefsEffects", testVouchersEtc},
		{"GroupBuyPlatformRecords", testGroupBuy},
		{"BrandsAreIsolated", testIsolation},
		{"NextSeq", testNextSeq},
		{"RollbackOnError", testRollback},
		{"ConcurrentUpdates", testConcurrent},
		{"TransactionSeesItsOwnWrites", testOwnWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// at is a fixed time with microseconds, the precision both engines keep.
var at = time.Date(2026, 3, 2, 10, 4, 5, 123456000, time.UTC)

func update(t *testing.T, s cloud.Storage, fn func(cloud.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s cloud.Storage, fn func(cloud.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func wantCode(t *testing.T, what string, err error, code cloud.Code) {
	t.Helper()
	if cloud.ErrorCode(err) != code {
		t.Errorf("%s: error %v, want code %s", what, err, code)
	}
}

// seed makes brands b1 and b2, each with store s1, device s1-d1 and
// members 1 and 2.
func seed(t *testing.T, s cloud.Storage) {
	t.Helper()
	update(t, s, func(tx cloud.Tx) error {
		for _, b := range []string{"b1", "b2"} {
			if err := tx.PutBrand(brand(b)); err != nil {
				return err
			}
			if err := tx.PutStore(cloud.Store{BrandID: b, ID: "s1", Name: "First", CreatedAt: at}); err != nil {
				return err
			}
			if err := tx.PutDevice(cloud.Device{BrandID: b, StoreID: "s1", ID: "s1-d1", Name: "till", SecretHash: []byte{1, 2}, PairedAt: at}); err != nil {
				return err
			}
			for _, id := range []string{"1", "2"} {
				if err := tx.PutMember(cloud.Member{BrandID: b, ID: id, Name: "M" + id, CreatedAt: at, TierID: "regular", Source: cloud.MemberSource{Channel: "hq"}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func brand(id string) cloud.Brand {
	_, key, _ := ed25519.GenerateKey(nil)
	return cloud.Brand{ID: id, Name: "Brand " + id, Currency: "CNY", TimeZone: cloud.DefaultTimeZone, MemberCodeKey: key, Programme: cloud.DefaultProgramme(), CreatedAt: at}
}

func testBrands(t *testing.T, s cloud.Storage) {
	b := brand("tea")
	b.TimeZone = ""
	view(t, s, func(tx cloud.Tx) error {
		_, err := tx.Brand("tea")
		wantCode(t, "missing brand", err, cloud.NotFound)
		return nil
	})
	update(t, s, func(tx cloud.Tx) error { return tx.PutBrand(b) })
	b.TimeZone = cloud.DefaultTimeZone // the default when none is given
	b.Programme.BonusDays = []cloud.BonusDay{{Weekday: 2, MultiplierPct: 200}}
	b.Programme.Offline.MaxReplicaAge = 90 * time.Minute
	b.Name = "Tea House"
	update(t, s, func(tx cloud.Tx) error { return tx.PutBrand(b) })
	update(t, s, func(tx cloud.Tx) error { return tx.PutBrand(brand("coffee")) })
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.Brand("tea")
		if err != nil {
			return err
		}
		eq(t, "brand", got, b)
		ids, err := tx.BrandIDs()
		eq(t, "brand ids", ids, []string{"coffee", "tea"})
		return err
	})
}

func testStoresDevicesPairings(t *testing.T, s cloud.Storage) {
	update(t, s, func(tx cloud.Tx) error { return tx.PutBrand(brand("b1")) })
	st := cloud.Store{BrandID: "b1", ID: "s1", Name: "First Street", CreatedAt: at}
	d := cloud.Device{BrandID: "b1", StoreID: "s1", ID: "s1-d1", Name: "till", SecretHash: []byte{9, 8, 7}, PairedAt: at}
	p := cloud.Pairing{Code: "ABCD-EFGH-JKLM", BrandID: "b1", StoreID: "s1", ExpiresAt: at.Add(time.Hour)}
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutStore(st); err != nil {
			return err
		}
		if err := tx.PutDevice(d); err != nil {
			return err
		}
		return tx.PutPairing(p)
	})
	d.AckedSeq, d.LastSeenAt, d.Revoked = 42, at.Add(time.Minute), true
	update(t, s, func(tx cloud.Tx) error { return tx.PutDevice(d) })
	view(t, s, func(tx cloud.Tx) error {
		gotS, err := tx.Store("b1", "s1")
		eq(t, "store", gotS, st)
		if err != nil {
			return err
		}
		gotD, err := tx.Device("b1", "s1-d1")
		eq(t, "device", gotD, d)
		if err != nil {
			return err
		}
		all, err := tx.Devices("b1")
		eq(t, "devices", all, []cloud.Device{d})
		gotP, err := tx.Pairing(p.Code)
		eq(t, "pairing", gotP, p)
		_, err = tx.Store("b1", "nope")
		wantCode(t, "missing store", err, cloud.NotFound)
		_, err = tx.Device("b1", "nope")
		wantCode(t, "missing device", err, cloud.NotFound)
		return nil
	})
	update(t, s, func(tx cloud.Tx) error {
		got, err := tx.DeviceForPush("b1", "s1-d1")
		eq(t, "device for push", got, d)
		if err != nil {
			return err
		}
		return tx.DeletePairing(p.Code)
	})
	view(t, s, func(tx cloud.Tx) error {
		_, err := tx.Pairing(p.Code)
		wantCode(t, "deleted pairing", err, cloud.NotFound)
		return nil
	})
}

func fullMember() cloud.Member {
	return cloud.Member{
		BrandID: "b1", ID: "7", Phone: "13800138000", Name: "李雷", Visits: 3, CreatedAt: at, LastVisitAt: at.Add(time.Hour),
		Birthday: "05-20", Source: cloud.MemberSource{Channel: "referral", StoreID: "s1", StaffID: "w1", CampaignID: "c1", ReferrerID: "1"},
		Consent: true, Tags: []string{"vip", "老客"}, TierID: "gold", TierSince: at, Points: 120, SVPrincipal: 5000, SVBonus: 500,
		TotalSpendFen: 98000,
	}
}

func testMemberRoundTrip(t *testing.T, s cloud.Storage) {
	seed(t, s)
	m := fullMember()
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutMember(m); err != nil {
			return err
		}
		for _, c := range []string{"6300001", "6300002"} {
			if err := tx.PutCard(cloud.Card{BrandID: "b1", Number: c, MemberID: m.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	m.Cards = []string{"6300001", "6300002"}
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.Member("b1", "7")
		eq(t, "member", got, m)
		if err != nil {
			return err
		}
		many, err := tx.MembersByIDs("b1", []string{"7", "1", "404"})
		if err != nil {
			return err
		}
		if len(many) != 2 || !reflect.DeepEqual(many["7"], m) || many["1"].Name != "M1" {
			t.Errorf("members by ids = %+v", many)
		}
		n, err := tx.CountMembers("b1")
		eq(t, "count", n, uint64(3))
		c, err := tx.Card("b1", "6300002")
		eq(t, "card", c, cloud.Card{BrandID: "b1", Number: "6300002", MemberID: "7"})
		_, err = tx.Member("b1", "404")
		wantCode(t, "missing member", err, cloud.NotFound)
		_, err = tx.Card("b1", "404")
		wantCode(t, "missing card", err, cloud.NotFound)
		return nil
	})
	// A revoked card is no longer the member's; a moved one is the other's.
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutCard(cloud.Card{BrandID: "b1", Number: "6300001", MemberID: "7", Revoked: true}); err != nil {
			return err
		}
		return tx.PutCard(cloud.Card{BrandID: "b1", Number: "6300002", MemberID: "1"})
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.MembersByIDs("b1", []string{"7", "1"})
		if len(got["7"].Cards) != 0 || fmt.Sprint(got["1"].Cards) != "[6300002]" {
			t.Errorf("cards after revoke and move: 7 has %v, 1 has %v", got["7"].Cards, got["1"].Cards)
		}
		return err
	})
}

func testPhone(t *testing.T, s cloud.Storage) {
	seed(t, s)
	m := fullMember()
	update(t, s, func(tx cloud.Tx) error { return tx.PutMember(m) })
	err := s.Update(ctx, func(tx cloud.Tx) error {
		other, err := tx.Member("b1", "1")
		if err != nil {
			return err
		}
		other.Phone = m.Phone
		return tx.PutMember(other)
	})
	wantCode(t, "phone of another member", err, cloud.Conflict)
	// The same phone in another brand is another person's business.
	update(t, s, func(tx cloud.Tx) error {
		other, err := tx.Member("b2", "1")
		if err != nil {
			return err
		}
		other.Phone = m.Phone
		return tx.PutMember(other)
	})
	// Changing a phone frees the old one.
	update(t, s, func(tx cloud.Tx) error {
		m.Phone = "13900139000"
		if err := tx.PutMember(m); err != nil {
			return err
		}
		other, err := tx.Member("b1", "1")
		if err != nil {
			return err
		}
		other.Phone = "13800138000"
		return tx.PutMember(other)
	})
	view(t, s, func(tx cloud.Tx) error {
		for phone, want := range map[string]string{"13800138000": "1", "13900139000": "7"} {
			id, err := tx.MemberIDByPhone("b1", phone)
			eq(t, "member of "+phone, id, want)
			if err != nil {
				return err
			}
		}
		_, err := tx.MemberIDByPhone("b1", "13700137000")
		wantCode(t, "unknown phone", err, cloud.NotFound)
		return nil
	})
}

func testMembersIterate(t *testing.T, s cloud.Storage) {
	seed(t, s)
	const n = 1234
	update(t, s, func(tx cloud.Tx) error {
		for i := range n {
			m := cloud.Member{BrandID: "b1", ID: fmt.Sprintf("m%05d", i), Name: "x", CreatedAt: at, TierID: "regular", Source: cloud.MemberSource{Channel: "import"}}
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	var ids []string
	update(t, s, func(tx cloud.Tx) error {
		return tx.Members("b1", func(m cloud.Member) (bool, error) {
			ids = append(ids, m.ID)
			m.Visits++ // fn may write through the transaction
			return true, tx.PutMember(m)
		})
	})
	if len(ids) != n+2 || ids[0] != "1" || ids[1] != "2" || ids[2] != "m00000" || ids[n+1] != fmt.Sprintf("m%05d", n-1) {
		t.Fatalf("members seen: %d, first %v", len(ids), ids[:3])
	}
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("members out of order at %d: %s then %s", i, ids[i-1], ids[i])
		}
	}
	calls := 0
	boom := errors.New("boom")
	view(t, s, func(tx cloud.Tx) error {
		err := tx.Members("b1", func(m cloud.Member) (bool, error) {
			calls++
			if m.Visits != 1 {
				t.Errorf("member %s has %d visits after the write, want 1", m.ID, m.Visits)
			}
			return calls < 3, nil
		})
		if calls != 3 {
			t.Errorf("Members went on after false: %d calls", calls)
		}
		if err := tx.Members("b1", func(cloud.Member) (bool, error) { return true, boom }); !errors.Is(err, boom) {
			t.Errorf("Members error = %v, want fn's", err)
		}
		return err
	})
}

func sampleEvents() []cloud.StoredEvent {
	base := cloud.StoredEvent{BrandID: "b1", ReceivedAt: at.Add(time.Second), Outcome: cloud.Applied}
	mk := func(id string, seq uint64, kind cloud.EventKind, set func(*cloud.StoredEvent)) cloud.StoredEvent {
		e := base
		e.Event = cloud.Event{ID: id, DeviceID: "s1-d1", Seq: seq, OccurredAt: at, StoreID: "s1", MemberID: "1", StaffID: "w1", Kind: kind}
		set(&e)
		return e
	}
	return []cloud.StoredEvent{
		mk("e1", 1, cloud.EventVisit, func(e *cloud.StoredEvent) {
			e.Visit = &cloud.Visit{IdentifiedBy: cloud.ByMemberCode, IdentifierHint: "…8000", CodeRef: "k/1/2/3"}
			e.ContentHash = []byte{0xde, 0xad}
		}),
		mk("e2", 2, cloud.EventPurchase, func(e *cloud.StoredEvent) {
			e.Purchase = &cloud.Purchase{BillFen: 3000, TierDiscountFen: 100, CouponCodes: []string{"CP1"}, CouponDiscountFen: 500, PointsBurned: 10,
				PointsDiscountFen: 10, StoredValueFen: 2000, PaidOtherFen: 390, Items: []cloud.Item{{SKU: "tea", Name: "奶茶", Quantity: 2, UnitPriceFen: 1500}}, TierID: "gold"}
		}),
		mk("e3", 3, cloud.EventTopUp, func(e *cloud.StoredEvent) { e.TopUp = &cloud.TopUp{AmountFen: 50000, BonusFen: 5000} }),
		mk("e4", 4, cloud.EventRefund, func(e *cloud.StoredEvent) { e.Refund = &cloud.Refund{PurchaseEventID: "e2", AmountFen: 2390} }),
		mk("e5", 5, cloud.EventVoucher, func(e *cloud.StoredEvent) { e.Voucher = &cloud.VoucherRedemption{Code: "MT123456"}; e.MemberID = "" }),
		mk("e6", 6, cloud.EventEnrolment, func(e *cloud.StoredEvent) {
			e.Enrolment = &cloud.Enrolment{Phone: "13800138000", Name: "韩梅梅", LocalRef: "r1", Consent: true}
			e.MemberID, e.StaffID = "", ""
		}),
		mk("e7", 7, "teleport", func(e *cloud.StoredEvent) {
			e.Outcome, e.Reason = cloud.Rejected, "event kind \"teleport\" is not known"
		}),
	}
}

func testEvents(t *testing.T, s cloud.Storage) {
	seed(t, s)
	evs := sampleEvents()
	update(t, s, func(tx cloud.Tx) error {
		for _, e := range evs {
			if err := tx.PutEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx cloud.Tx) error { return tx.PutEvent(evs[0]) })
	wantCode(t, "event put twice", err, cloud.Conflict)
	view(t, s, func(tx cloud.Tx) error {
		for _, e := range evs {
			got, err := tx.Event("b1", e.ID)
			if err != nil {
				return err
			}
			eq(t, "event "+e.ID, got, e)
		}
		_, err := tx.Event("b1", "nope")
		wantCode(t, "missing event", err, cloud.NotFound)
		many, err := tx.EventsByIDs("b1", []string{"e2", "nope", "e6"})
		if err != nil {
			return err
		}
		if len(many) != 2 || !reflect.DeepEqual(many["e6"], evs[5]) {
			t.Errorf("events by ids: %d found", len(many))
		}
		page, last, err := tx.Events("b1", 0, 4)
		if err != nil {
			return err
		}
		if len(page) != 4 || page[3].ID != "e4" || last != 4 {
			t.Errorf("first page: %d events, last position %d", len(page), last)
		}
		page, last, err = tx.Events("b1", last, 4)
		if len(page) != 3 || page[0].ID != "e5" || last != 7 {
			t.Errorf("second page: %d events, last position %d", len(page), last)
		}
		page, last, err = tx.Events("b1", last, 4)
		if len(page) != 0 || last != 7 {
			t.Errorf("past the end: %d events, last position %d", len(page), last)
		}
		total, byKind, rejected, err := tx.EventCounts("b1")
		eq(t, "counts", []any{total, byKind[cloud.EventVisit], byKind[cloud.EventPurchase], rejected}, []any{uint64(7), uint64(1), uint64(1), uint64(1)})
		total, _, _, err = tx.EventCounts("b2")
		eq(t, "other brand's count", total, uint64(0))
		return err
	})
}

func testChanges(t *testing.T, s cloud.Storage) {
	seed(t, s)
	update(t, s, func(tx cloud.Tx) error {
		for i, k := range []cloud.ChangeKind{cloud.ChangeMember, cloud.ChangeCard, cloud.ChangeCoupon, cloud.ChangeProgramme, cloud.ChangeVoucher} {
			seq, err := tx.AppendChange("b1", k, fmt.Sprint("key", i))
			if err != nil {
				return err
			}
			if seq != uint64(i+1) {
				t.Errorf("change %d got seq %d", i, seq)
			}
		}
		return nil
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.Changes("b1", 2, 2)
		eq(t, "changes", got, []cloud.Change{{Seq: 3, Kind: cloud.ChangeCoupon, Key: "key2"}, {Seq: 4, Kind: cloud.ChangeProgramme, Key: "key3"}})
		none, _ := tx.Changes("b2", 0, 10)
		eq(t, "other brand's changes", len(none), 0)
		return err
	})
}

func testCodeUses(t *testing.T, s cloud.Storage) {
	seed(t, s)
	update(t, s, func(tx cloud.Tx) error {
		for i := range 5 {
			u := cloud.CodeUse{Ref: fmt.Sprint("ref", i), EventID: "e1", StoreID: "s1", DeviceID: "s1-d1", MemberID: "1", ExpiresAt: at.Add(time.Duration(i) * time.Hour)}
			if err := tx.PutCodeUse("b1", u); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.CodeUse("b1", "ref2")
		eq(t, "code use", got, cloud.CodeUse{Ref: "ref2", EventID: "e1", StoreID: "s1", DeviceID: "s1-d1", MemberID: "1", ExpiresAt: at.Add(2 * time.Hour)})
		return err
	})
	var pruned []int
	update(t, s, func(tx cloud.Tx) error {
		for range 2 {
			n, err := tx.PruneCodeUses("b1", at.Add(3*time.Hour+time.Second), 2)
			if err != nil {
				return err
			}
			pruned = append(pruned, n)
		}
		return nil
	})
	eq(t, "pruned", pruned, []int{2, 2})
	view(t, s, func(tx cloud.Tx) error {
		for i := range 5 {
			_, err := tx.CodeUse("b1", fmt.Sprint("ref", i))
			if want := i == 4; (err == nil) != want {
				t.Errorf("code use ref%d kept = %v, want %v (%v)", i, err == nil, want, err)
			}
		}
		return nil
	})
}

func testPoints(t *testing.T, s cloud.Storage) {
	seed(t, s)
	var entries []cloud.PointsEntry
	update(t, s, func(tx cloud.Tx) error {
		for i, e := range []cloud.PointsEntry{
			{MemberID: "1", At: at, Delta: 100, Reason: "earn", EventID: "e1", ExpiresAt: at.AddDate(1, 0, 0)},
			{MemberID: "2", At: at, Delta: 5, Reason: "adjust", Note: "goodwill"},
			{MemberID: "1", At: at.Add(time.Hour), Delta: -30, Reason: "burn", EventID: "e2"},
		} {
			got, err := tx.AppendPoints("b1", e)
			if err != nil {
				return err
			}
			if got.Seq != uint64(i+1) {
				t.Errorf("entry %d numbered %d", i, got.Seq)
			}
			entries = append(entries, got)
		}
		for _, l := range []cloud.PointsLot{
			{MemberID: "1", Seq: 1, ExpiresAt: at.AddDate(2, 0, 0), Remaining: 10},
			{MemberID: "1", Seq: 2, Remaining: 20}, // never expires: last
			{MemberID: "1", Seq: 3, ExpiresAt: at.AddDate(1, 0, 0), Remaining: 30},
			{MemberID: "1", Seq: 4, ExpiresAt: at.AddDate(1, 0, 0), Remaining: 40},
			{MemberID: "2", Seq: 5, Remaining: 50},
		} {
			if err := tx.PutPointsLot("b1", l); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutPointsLot("b1", cloud.PointsLot{MemberID: "1", Seq: 3, ExpiresAt: at.AddDate(1, 0, 0), Remaining: 0}); err != nil {
			return err
		}
		return tx.PutPointsLot("b1", cloud.PointsLot{MemberID: "1", Seq: 4, ExpiresAt: at.AddDate(1, 0, 0), Remaining: 35})
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.PointsEntries("b1", "1")
		eq(t, "member 1's points", got, []cloud.PointsEntry{entries[0], entries[2]})
		lots, err := tx.PointsLots("b1", "1")
		eq(t, "member 1's lots", lots, []cloud.PointsLot{
			{MemberID: "1", Seq: 4, ExpiresAt: at.AddDate(1, 0, 0), Remaining: 35},
			{MemberID: "1", Seq: 1, ExpiresAt: at.AddDate(2, 0, 0), Remaining: 10},
			{MemberID: "1", Seq: 2, Remaining: 20},
		})
		return err
	})
}

func testStoredValueAndTiers(t *testing.T, s cloud.Storage) {
	seed(t, s)
	var sv []cloud.StoredValueEntry
	tiers := []cloud.TierChange{
		{MemberID: "1", At: at, From: "", To: "regular", Reason: "joined"},
		{MemberID: "1", At: at.Add(time.Hour), From: "regular", To: "silver", Reason: "upgrade"},
	}
	update(t, s, func(tx cloud.Tx) error {
		for _, e := range []cloud.StoredValueEntry{
			{MemberID: "1", At: at, PrincipalDelta: 50000, BonusDelta: 5000, Reason: "top_up", EventID: "e3"},
			{MemberID: "2", At: at, PrincipalDelta: 100, Reason: "top_up"},
			{MemberID: "1", At: at, PrincipalDelta: -1800, BonusDelta: -200, Reason: "spend", EventID: "e2", Note: "bill"},
		} {
			got, err := tx.AppendStoredValue("b1", e)
			if err != nil {
				return err
			}
			sv = append(sv, got)
		}
		for _, c := range append(tiers, cloud.TierChange{MemberID: "2", At: at, To: "gold", Reason: "hq"}) {
			if err := tx.AppendTierChange("b1", c); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.StoredValueEntries("b1", "1")
		eq(t, "stored value", got, []cloud.StoredValueEntry{sv[0], sv[2]})
		if sv[2].Seq != 3 {
			t.Errorf("third stored-value line numbered %d", sv[2].Seq)
		}
		tc, err := tx.TierChanges("b1", "1")
		eq(t, "tier changes", tc, tiers)
		return err
	})
}

func testActivity(t *testing.T, s cloud.Storage) {
	seed(t, s)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 23, 30, 0, 0, time.UTC) }
	update(t, s, func(tx cloud.Tx) error {
		for _, a := range []struct {
			d, visits int
			spend     int64
		}{{1, 1, 0}, {1, 0, 500}, {2, 1, 0}, {5, 2, 700}} {
			if err := tx.AddActivity("b1", "1", day(a.d), a.visits, a.spend); err != nil {
				return err
			}
		}
		// The caller's zone decides the day: 23:30 UTC is the next day in Shanghai.
		sh, _ := time.LoadLocation("Asia/Shanghai")
		return tx.AddActivity("b1", "2", day(1).In(sh), 1, 100)
	})
	view(t, s, func(tx cloud.Tx) error {
		if err := tx.PrefetchActivity("b1", []string{"1", "2"}, day(1)); err != nil {
			return err
		}
		for _, c := range []struct {
			member string
			from   int
			visits int
			spend  int64
		}{{"1", 1, 4, 1200}, {"1", 2, 3, 700}, {"1", 3, 2, 700}, {"1", 6, 0, 0}, {"2", 2, 1, 100}, {"2", 3, 0, 0}} {
			v, sp, err := tx.ActivitySince("b1", c.member, day(c.from))
			if err != nil {
				return err
			}
			if v != c.visits || sp != c.spend {
				t.Errorf("member %s from day %d: %d visits, %d fen; want %d, %d", c.member, c.from, v, sp, c.visits, c.spend)
			}
		}
		return nil
	})
}

func testCoupons(t *testing.T, s cloud.Storage) {
	seed(t, s)
	tpl := cloud.CouponTemplate{BrandID: "b1", ID: "five-off", Name: "满30减5", Kind: cloud.AmountOff, AmountOffFen: 500, MinSpendFen: 3000,
		ValidDays: 30, StoreIDs: []string{"s1"}, PerMemberLimit: 2, CreatedAt: at}
	tpl2 := cloud.CouponTemplate{BrandID: "b1", ID: "free-tea", Name: "Free tea", Kind: cloud.FreeItem, FreeItem: "tea", ValidFrom: at, ValidUntil: at.AddDate(0, 1, 0), CreatedAt: at}
	c := cloud.Coupon{BrandID: "b1", Code: "CP1", TemplateID: "five-off", MemberID: "1", State: cloud.CouponIssued, IssuedAt: at, ValidFrom: at, ExpiresAt: at.AddDate(0, 0, 30),
		History: []cloud.CouponTransition{{At: at, To: cloud.CouponIssued, Reason: "issued by HQ"}}}
	c2 := cloud.Coupon{BrandID: "b1", Code: "CP2", TemplateID: "free-tea", MemberID: "1", State: cloud.CouponIssued, IssuedAt: at, ValidFrom: at, ExpiresAt: at.AddDate(0, 1, 0),
		History: []cloud.CouponTransition{{At: at, To: cloud.CouponIssued}}}
	update(t, s, func(tx cloud.Tx) error {
		for _, t := range []cloud.CouponTemplate{tpl, tpl2} {
			if err := tx.PutCouponTemplate(t); err != nil {
				return err
			}
		}
		if err := tx.PutCoupon(c); err != nil {
			return err
		}
		return tx.PutCoupon(c2)
	})
	c.History = append(c.History, cloud.CouponTransition{At: at.Add(time.Hour), From: cloud.CouponIssued, To: cloud.CouponRedeemed, EventID: "e2", StoreID: "s1"})
	c.State = cloud.CouponRedeemed
	c2.MemberID = "2"
	c2.History = append(c2.History, cloud.CouponTransition{At: at, From: cloud.CouponIssued, To: cloud.CouponIssued, Reason: "merged"})
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutCoupon(c); err != nil {
			return err
		}
		return tx.PutCoupon(c2)
	})
	view(t, s, func(tx cloud.Tx) error {
		got, err := tx.Coupon("b1", "CP1")
		eq(t, "coupon", got, c)
		mine, err := tx.MemberCoupons("b1", "1")
		eq(t, "member 1's coupons", mine, []cloud.Coupon{c})
		theirs, err := tx.MemberCoupons("b1", "2")
		eq(t, "member 2's coupons", theirs, []cloud.Coupon{c2})
		gotT, err := tx.CouponTemplate("b1", "five-off")
		eq(t, "template", gotT, tpl)
		all, err := tx.CouponTemplates("b1")
		eq(t, "templates", all, []cloud.CouponTemplate{tpl, tpl2})
		_, err = tx.Coupon("b1", "nope")
		wantCode(t, "missing coupon", err, cloud.NotFound)
		_, err = tx.CouponTemplate("b1", "nope")
		wantCode(t, "missing template", err, cloud.NotFound)
		return nil
	})
}

func testVouchersEtc(t *testing.T, s cloud.Storage) {
	seed(t, s)
	v := cloud.Voucher{BrandID: "b1", Code: "MT123456", Platform: "meituan", CampaignID: "c1", Title: "双人套餐", FaceValueFen: 8800, ExpiresAt: at.AddDate(0, 1, 0), ImportedAt: at}
	eff := cloud.PurchaseEffect{EventID: "e2", MemberID: "1", PointsEarned: 23, PointsBurned: 10, PrincipalSpent: 1800, BonusSpent: 200, NetFen: 2390}
	var conflicts []cloud.ConflictRecord
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutVoucher(v); err != nil {
			return err
		}
		if err := tx.PutEffect("b1", eff); err != nil {
			return err
		}
		if err := tx.PutLocalRef("b1", "r1", "2"); err != nil {
			return err
		}
		for i := range 3 {
			c, err := tx.AppendConflict("b1", cloud.ConflictRecord{At: at, Kind: "coupon_reused", EventID: fmt.Sprint("e", i), DeviceID: "s1-d1", StoreID: "s1", MemberID: "1",
				Detail: "coupon CP1 was already redeemed", Resolution: "first stands"})
			if err != nil {
				return err
			}
			conflicts = append(conflicts, c)
		}
		return nil
	})
	v.Redeemed, v.RedeemedAt, v.StoreID, v.EventID, v.MemberID = true, at, "s1", "e5", "1"
	eff.Refunded, eff.RefundedEventID = true, "e4"
	update(t, s, func(tx cloud.Tx) error {
		if err := tx.PutVoucher(v); err != nil {
			return err
		}
		return tx.PutEffect("b1", eff)
	})
	view(t, s, func(tx cloud.Tx) error {
		gotV, _ := tx.Voucher("b1", v.Code)
		eq(t, "voucher", gotV, v)
		gotE, _ := tx.Effect("b1", "e2")
		eq(t, "effect", gotE, eff)
		ref, _ := tx.LocalRef("b1", "r1")
		eq(t, "local ref", ref, "2")
		got, _ := tx.Conflicts("b1", 1, 10)
		eq(t, "conflicts after 1", got, conflicts[1:])
		if conflicts[2].Seq != 3 {
			t.Errorf("third conflict numbered %d", conflicts[2].Seq)
		}
		for what, err := range map[string]error{
			"missing voucher": func() error { _, err := tx.Voucher("b1", "nope"); return err }(),
			"missing effect":  func() error { _, err := tx.Effect("b1", "nope"); return err }(),
			"missing ref":     func() error { _, err := tx.LocalRef("b1", "nope"); return err }(),
		} {
			wantCode(t, what, err, cloud.NotFound)
		}
		return nil
	})
}

func testIsolation(t *testing.T, s cloud.Storage) {
	seed(t, s)
	update(t, s, func(tx cloud.Tx) error {
		m, err := tx.Member("b1", "1")
		if err != nil {
			return err
		}
		m.Points = 77
		if err := tx.PutMember(m); err != nil {
			return err
		}
		e := sampleEvents()[0]
		if err := tx.PutEvent(e); err != nil {
			return err
		}
		e.BrandID = "b2"
		e.Reason = "other brand"
		return tx.PutEvent(e) // the same event ID in another brand is another event
	})
	view(t, s, func(tx cloud.Tx) error {
		m, err := tx.Member("b2", "1")
		eq(t, "other brand's member points", m.Points, int64(0))
		e, err := tx.Event("b2", "e1")
		eq(t, "other brand's event", e.Reason, "other brand")
		page, _, err := tx.Events("b1", 0, 10)
		eq(t, "b1's events", len(page), 1)
		return err
	})
}

func testNextSeq(t *testing.T, s cloud.Storage) {
	seed(t, s)
	var got []uint64
	update(t, s, func(tx cloud.Tx) error {
		for _, spec := range []struct{ brand, seq string }{{"b1", "x"}, {"b1", "x"}, {"b1", "y"}, {"b2", "x"}, {"b1", "x"}} {
			n, err := tx.NextSeq(spec.brand, spec.seq)
			if err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	})
	update(t, s, func(tx cloud.Tx) error {
		n, err := tx.NextSeq("b1", "x")
		got = append(got, n)
		return err
	})
	eq(t, "sequences", fmt.Sprint(got), "[1 2 1 1 3 4]")
}

func testRollback(t *testing.T, s cloud.Storage) {
	seed(t, s)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx cloud.Tx) error {
		m := fullMember()
		if err := tx.PutMember(m); err != nil {
			return err
		}
		if _, err := tx.AppendChange("b1", cloud.ChangeMember, m.ID); err != nil {
			return err
		}
		if err := tx.PutEvent(sampleEvents()[0]); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	view(t, s, func(tx cloud.Tx) error {
		_, err := tx.Member("b1", "7")
		wantCode(t, "rolled-back member", err, cloud.NotFound)
		_, err = tx.Event("b1", "e1")
		wantCode(t, "rolled-back event", err, cloud.NotFound)
		ch, err := tx.Changes("b1", 0, 10)
		eq(t, "rolled-back changes", len(ch), 0)
		return err
	})
	update(t, s, func(tx cloud.Tx) error {
		n, err := tx.AppendChange("b1", cloud.ChangeMember, "1")
		eq(t, "change seq after rollback", n, uint64(1))
		return err
	})
}

func testConcurrent(t *testing.T, s cloud.Storage) {
	seed(t, s)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, func(tx cloud.Tx) error {
					m, err := tx.Member("b1", "1")
					if err != nil {
						return err
					}
					m.Visits++
					if err := tx.PutMember(m); err != nil {
						return err
					}
					_, err = tx.AppendChange("b1", cloud.ChangeMember, m.ID)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	view(t, s, func(tx cloud.Tx) error {
		m, err := tx.Member("b1", "1")
		eq(t, "visits: lost updates?", m.Visits, uint64(workers*each))
		ch, err := tx.Changes("b1", 0, 1000)
		eq(t, "changes: a seq given twice?", len(ch), workers*each)
		return err
	})
}

func testOwnWrites(t *testing.T, s cloud.Storage) {
	seed(t, s)
	update(t, s, func(tx cloud.Tx) error {
		m := fullMember()
		if err := tx.PutMember(m); err != nil {
			return err
		}
		if err := tx.PutCard(cloud.Card{BrandID: "b1", Number: "6300009", MemberID: m.ID}); err != nil {
			return err
		}
		got, err := tx.MembersByIDs("b1", []string{m.ID})
		if err != nil {
			return err
		}
		if got[m.ID].Points != m.Points || fmt.Sprint(got[m.ID].Cards) != "[6300009]" {
			t.Errorf("new member inside its transaction: %+v", got[m.ID])
		}
		if id, err := tx.MemberIDByPhone("b1", m.Phone); err != nil || id != m.ID {
			t.Errorf("phone of the new member: %q, %v", id, err)
		}
		if n, err := tx.CountMembers("b1"); err != nil || n != 3 {
			t.Errorf("count inside the transaction: %d, %v", n, err)
		}
		e := sampleEvents()[1]
		if err := tx.PutEvent(e); err != nil {
			return err
		}
		if held, err := tx.EventsByIDs("b1", []string{e.ID}); err != nil || len(held) != 1 {
			t.Errorf("new event inside its transaction: %d, %v", len(held), err)
		}
		if page, _, err := tx.Events("b1", 0, 10); err != nil || len(page) != 1 {
			t.Errorf("event log inside the transaction: %d, %v", len(page), err)
		}
		if total, _, _, err := tx.EventCounts("b1"); err != nil || total != 1 {
			t.Errorf("event count inside the transaction: %d, %v", total, err)
		}
		if err := tx.AddActivity("b1", m.ID, at, 1, 100); err != nil {
			return err
		}
		if err := tx.AddActivity("b1", m.ID, at, 1, 50); err != nil {
			return err
		}
		if v, sp, err := tx.ActivitySince("b1", m.ID, at); err != nil || v != 2 || sp != 150 {
			t.Errorf("activity inside the transaction: %d, %d, %v", v, sp, err)
		}
		p, err := tx.AppendPoints("b1", cloud.PointsEntry{MemberID: m.ID, At: at, Delta: 5, Reason: "earn"})
		if err != nil {
			return err
		}
		if err := tx.PutPointsLot("b1", cloud.PointsLot{MemberID: m.ID, Seq: p.Seq, Remaining: 5}); err != nil {
			return err
		}
		if lots, err := tx.PointsLots("b1", m.ID); err != nil || len(lots) != 1 {
			t.Errorf("lots inside the transaction: %v, %v", lots, err)
		}
		if ledger, err := tx.PointsEntries("b1", m.ID); err != nil || len(ledger) != 1 {
			t.Errorf("ledger inside the transaction: %v, %v", ledger, err)
		}
		if _, err := tx.AppendChange("b1", cloud.ChangeMember, m.ID); err != nil {
			return err
		}
		if ch, err := tx.Changes("b1", 0, 10); err != nil || len(ch) != 1 {
			t.Errorf("changes inside the transaction: %v, %v", ch, err)
		}
		d, err := tx.DeviceForPush("b1", "s1-d1")
		if err != nil {
			return err
		}
		d.AckedSeq = 9
		if err := tx.PutDevice(d); err != nil {
			return err
		}
		if d, err := tx.Device("b1", "s1-d1"); err != nil || d.AckedSeq != 9 {
			t.Errorf("device inside the transaction: %+v, %v", d, err)
		}
		return nil
	})
}
