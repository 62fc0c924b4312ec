package loyalty

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/money"
)

// The ledgers are append-only: every balance change is a ledger line, and
// the balance on the member record is kept equal to the ledger's sum in
// the same transaction.

// earnPoints adds points, as a new lot that expires by the programme.
func earnPoints(tx cloud.Tx, m *cloud.Member, n int64, reason, eventID string, at, expires time.Time) error {
	if n == 0 {
		return nil
	}
	e, err := tx.AppendPoints(m.BrandID, cloud.PointsEntry{MemberID: m.ID, At: at, Delta: n, Reason: reason, EventID: eventID, ExpiresAt: expires})
	if err != nil {
		return err
	}
	m.Points += n
	return tx.PutPointsLot(m.BrandID, cloud.PointsLot{MemberID: m.ID, Seq: e.Seq, ExpiresAt: expires, Remaining: n})
}

// takePoints removes up to n points, oldest-expiring lots first, and
// returns how many it took (less than n if the member has fewer).
func takePoints(tx cloud.Tx, m *cloud.Member, n int64, reason, eventID, note string, at time.Time) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	lots, err := tx.PointsLots(m.BrandID, m.ID)
	if err != nil {
		return 0, err
	}
	var taken int64
	for _, l := range lots {
		if taken == n {
			break
		}
		use := min(l.Remaining, n-taken)
		l.Remaining -= use
		taken += use
		if err := tx.PutPointsLot(m.BrandID, l); err != nil {
			return 0, err
		}
	}
	if taken == 0 {
		return 0, nil
	}
	if _, err := tx.AppendPoints(m.BrandID, cloud.PointsEntry{MemberID: m.ID, At: at, Delta: -taken, Reason: reason, EventID: eventID, Note: note}); err != nil {
		return 0, err
	}
	m.Points -= taken
	return taken, nil
}

// addStoredValue credits principal and bonus.
func addStoredValue(tx cloud.Tx, m *cloud.Member, principal, bonus int64, reason, eventID, note string, at time.Time) error {
	if principal == 0 && bonus == 0 {
		return nil
	}
	if _, err := tx.AppendStoredValue(m.BrandID, cloud.StoredValueEntry{MemberID: m.ID, At: at, PrincipalDelta: principal, BonusDelta: bonus, Reason: reason, EventID: eventID, Note: note}); err != nil {
		return err
	}
	p, err := money.Add(m.SVPrincipal, principal)
	if err != nil {
		return fmt.Errorf("stored value principal: %w", err)
	}
	b, err := money.Add(m.SVBonus, bonus)
	if err != nil {
		return fmt.Errorf("stored value bonus: %w", err)
	}
	m.SVPrincipal, m.SVBonus = p, b
	return nil
}

// cashOutForfeit is the bonus a cash-out of amount fen forfeits. The rule:
// over a run of cash-outs (the stored-value ledger's latest lines, back to
// the last line of another kind), cashing out x fen of the principal P the
// member held before the run, which carried bonus B, has forfeited
// floor(B * x / P) fen of bonus in total. So the forfeit does not depend on
// how a cash-out is split (850 cash-outs of 1 fen forfeit what one of 850
// fen does), it is never rounded up against the member, and cashing out
// the whole principal forfeits the whole bonus.
func cashOutForfeit(tx cloud.Tx, m cloud.Member, amount int64) (int64, error) {
	lines, err := tx.StoredValueEntries(m.BrandID, m.ID)
	if err != nil {
		return 0, fmt.Errorf("read stored-value ledger: %w", err)
	}
	var cashed, forfeited int64
	for i := len(lines) - 1; i >= 0 && lines[i].Reason == "cash_out"; i-- {
		cashed -= lines[i].PrincipalDelta
		forfeited -= lines[i].BonusDelta
	}
	principal0, err := money.Add(m.SVPrincipal, cashed)
	if err != nil {
		return 0, err
	}
	bonus0, err := money.Add(m.SVBonus, forfeited)
	if err != nil {
		return 0, err
	}
	total, err := money.MulDiv(bonus0, cashed+amount, principal0)
	if err != nil {
		return 0, fmt.Errorf("bonus forfeited by a cash-out of %d fen: %w", amount, err)
	}
	return min(max(total-forfeited, 0), m.SVBonus), nil
}

// spendStoredValue takes up to amount from the balance, from principal and
// bonus in proportion to what the member holds (bonus share rounded down),
// so a later cash-out treats principal and bonus fairly. It returns the
// principal and bonus taken; their sum is less than amount when the balance
// is short.
func spendStoredValue(tx cloud.Tx, m *cloud.Member, amount int64, reason, eventID string, at time.Time) (principal, bonus int64, err error) {
	total := m.StoredValue()
	amount = min(amount, total)
	if amount <= 0 {
		return 0, 0, nil
	}
	if bonus, err = money.MulDiv(amount, m.SVBonus, total); err != nil {
		return 0, 0, fmt.Errorf("bonus share of %d fen: %w", amount, err)
	}
	principal = amount - bonus
	if principal > m.SVPrincipal { // rounding can't push past the principal, but keep the books safe
		principal, bonus = m.SVPrincipal, amount-m.SVPrincipal
	}
	return principal, bonus, addStoredValue(tx, m, -principal, -bonus, reason, eventID, "", at)
}
