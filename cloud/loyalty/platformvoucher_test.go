package loyalty_test

import (
	"context"
	"testing"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/loyalty"
)

func TestPlatformVoucherEventsQueueOfflineClaimsAndSourceTheMember(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		// Consumed online: the cloud's consumption record is the source.
		err := f.db.Update(ctx, func(tx cloud.Tx) error {
			return tx.PutVoucherUse(cloud.VoucherConsumption{BrandID: f.brand, Platform: cloud.PlatformMeituan, Code: "1000000001", Key: "d/txn",
				StoreID: "shop-a", StaffID: "s01", State: cloud.ConsumeDone, Count: 1, DealID: "501", PriceFen: 9800})
		})
		if err != nil {
			t.Fatal(err)
		}
		online := cloud.Event{Kind: cloud.EventVoucher, StaffID: "s01", Voucher: &cloud.VoucherRedemption{Code: "1000000001", Platform: cloud.PlatformMeituan,
			Count: 1, DealID: "501", PriceFen: 9800, ConsumptionKey: "d/txn"}}
		if r := f.push(0, online); r.Outcome != cloud.Applied {
			t.Fatalf("online voucher: %s %s", r.Outcome, r.Reason)
		}
		enrol := cloud.Event{Kind: cloud.EventEnrolment, StaffID: "s02", Enrolment: &cloud.Enrolment{Phone: "13900000011", Name: "团购客", VoucherCode: "1000000001", LocalRef: "r1", Consent: true}}
		if r := f.push(0, enrol); r.Outcome != cloud.Applied {
			t.Fatalf("enrol: %s %s", r.Outcome, r.Reason)
		}
		m := ok(f.svc.GetMember(ctx, f.brand, "", "13900000011"))(t)
		want := cloud.MemberSource{Channel: "group_buy", StoreID: "shop-a", StaffID: "s01", Platform: cloud.PlatformMeituan, DealID: "501"}
		if m.Source != want {
			t.Fatalf("source %+v, want %+v", m.Source, want)
		}

		// The same voucher's guest could have joined on the join page instead.
		// The join page proves the phone with a one-time code first.
		codes := &lastCode{}
		f.svc.JoinCodeSender = codes
		ok(struct{}{}, f.svc.SendJoinCode(ctx, f.brand, "13900000013"))(t)
		joined := ok(f.svc.Join(ctx, loyalty.JoinRequest{BrandID: f.brand, StoreID: "shop-a", StaffID: "s09", VoucherCode: "1000000001", Phone: "13900000013", Consent: true, Code: codes.code}))(t)
		if joined.Source != (cloud.MemberSource{Channel: "group_buy", StoreID: "shop-a", StaffID: "s01", Platform: cloud.PlatformMeituan, DealID: "501"}) {
			t.Fatalf("join page source %+v", joined.Source)
		}

		// Accepted offline: queued as a claim, and the source already names it.
		prov := cloud.Event{Kind: cloud.EventVoucher, StaffID: "s03", Voucher: &cloud.VoucherRedemption{Code: "100000000099", Platform: cloud.PlatformDouyin,
			Count: 2, DealID: "sku-1", PriceFen: 16800, Provisional: true}}
		r := f.push(1, prov)
		if r.Outcome != cloud.Applied {
			t.Fatalf("provisional: %s %s", r.Outcome, r.Reason)
		}
		var claims []cloud.VoucherClaim
		_ = f.db.View(ctx, func(tx cloud.Tx) (err error) { claims, err = tx.VoucherClaims(f.brand, 10); return })
		if len(claims) != 1 || claims[0].EventID != r.EventID || claims[0].Count != 2 || claims[0].PriceFen != 16800 || claims[0].StoreID != "shop-b" {
			t.Fatalf("claims = %+v", claims)
		}
		enrol = cloud.Event{Kind: cloud.EventEnrolment, Enrolment: &cloud.Enrolment{Phone: "13900000012", VoucherCode: "100000000099", LocalRef: "r2", Consent: true}}
		f.push(1, enrol)
		m = ok(f.svc.GetMember(ctx, f.brand, "", "13900000012"))(t)
		if m.Source.Platform != cloud.PlatformDouyin || m.Source.DealID != "sku-1" || m.Source.StaffID != "s03" {
			t.Fatalf("source %+v", m.Source)
		}

		// Nonsense is rejected, never queued.
		for _, v := range []cloud.VoucherRedemption{
			{Code: "1", Platform: "ele.me", Count: 1, Provisional: true},
			{Code: "1000000002", Platform: cloud.PlatformMeituan, Count: 0, Provisional: true},
			{Code: "1000000002", Platform: cloud.PlatformMeituan, Count: 1, PriceFen: -1, Provisional: true},
			{Code: "1000000002", Platform: cloud.PlatformMeituan, Count: 1},
		} {
			if r := f.push(0, cloud.Event{Kind: cloud.EventVoucher, Voucher: &v}); r.Outcome != cloud.Rejected {
				t.Errorf("%+v: %s", v, r.Outcome)
			}
		}
	})
}

// lastCode is a text message channel that keeps the last join code sent.
type lastCode struct{ code string }

func (c *lastCode) SendJoinCode(_ context.Context, _, _, code string) error {
	c.code = code
	return nil
}
