package campaign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/memberpass/memberpass/cloud"
)

// OddsScale: a prize's odds are parts per million.
const OddsScale = 1_000_000

// Prize is one prize of a lottery.
type Prize struct {
	ID   string
	Name string
	// OddsPPM is the chance per million draws.
	OddsPPM int64
	// Stock is how many are left; Initial how many there were.
	Stock   int64
	Initial int64
	// What the prize gives: a coupon of TemplateID, or Points.
	TemplateID string `json:",omitempty"`
	Points     int64  `json:",omitempty"`
	// CostFen counts against the lottery's budget.
	CostFen int64 `json:",omitempty"`
}

// Lottery is a draw with prizes, odds, stock and a budget. Every draw is
// recorded with its seed; the seed is derived from a secret whose SHA-256
// (Commitment) is fixed when the lottery is created, so an auditor given
// the secret afterwards can recompute every draw (VerifyDraw) and the
// brand cannot have chosen outcomes after the fact.
type Lottery struct {
	BrandID   string
	ID        string
	Name      string
	Prizes    []Prize
	BudgetFen int64
	SpentFen  int64
	// Secret is the HMAC key of the seeds; Commitment is hex SHA-256 of it.
	Secret     []byte
	Commitment string
	Draws      int64
	CreatedAt  time.Time
}

// NewLottery checks a lottery and gives it a fresh secret.
func NewLottery(l Lottery) (Lottery, error) {
	if err := ValidID("lottery id", l.ID); err != nil {
		return Lottery{}, err
	}
	if len(l.Prizes) == 0 || len(l.Prizes) > 32 {
		return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "1 to 32 prizes")
	}
	var total int64
	seen := map[string]bool{}
	for i, p := range l.Prizes {
		if err := ValidID("prize id", p.ID); err != nil {
			return Lottery{}, err
		}
		if seen[p.ID] {
			return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "prize ids must differ")
		}
		seen[p.ID] = true
		if p.OddsPPM < 1 || p.OddsPPM > OddsScale || p.Stock < 0 || p.Stock > 100_000_000 || p.CostFen < 0 || p.CostFen > maxAmountFen || p.Points < 0 || p.Points > 100_000_000 {
			return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "prize "+p.ID+": odds 1 to 1,000,000 per million, stock, cost and points within bounds")
		}
		if (p.TemplateID == "") == (p.Points == 0) {
			return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "prize "+p.ID+" gives a coupon template or points")
		}
		total += p.OddsPPM
		l.Prizes[i].Initial = p.Stock
	}
	if total > OddsScale {
		return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "the odds add up to more than one")
	}
	if l.BudgetFen < 0 {
		return Lottery{}, textErr(cloud.Invalid, TextLotteryBad, "negative budget")
	}
	l.Secret = make([]byte, 32)
	if _, err := rand.Read(l.Secret); err != nil {
		return Lottery{}, fmt.Errorf("lottery secret: %w", err)
	}
	sum := sha256.Sum256(l.Secret)
	l.Commitment = hex.EncodeToString(sum[:])
	return l, nil
}

// DrawChance is one draw a campaign gave a member, used once.
type DrawChance struct {
	BrandID   string
	LotteryID string
	MemberID  string
	// Key is the grant's key; it becomes the draw's ID.
	Key        string
	CampaignID string
	GrantedAt  time.Time
}

// PrizeOdds is a prize's odds as they stood at a draw.
type PrizeOdds struct {
	ID      string
	OddsPPM int64
}

// Draw is one recorded draw.
type Draw struct {
	BrandID   string
	LotteryID string
	ID        string
	MemberID  string
	At        time.Time
	// Seed is hex HMAC-SHA256(secret, brand 0 lottery 0 draw id).
	Seed string
	// Roll is the seed's first 8 bytes, big-endian, modulo 1,000,000.
	Roll int64
	// Odds are the prizes' odds in order; the roll falls in a prize's
	// cumulative band, or past them all (no prize).
	Odds []PrizeOdds
	// Won is the prize the roll fell on ("" none); Given says it was
	// given: false when out of stock or over the lottery's budget.
	Won    string `json:",omitempty"`
	Given  bool   `json:",omitempty"`
	Reason string `json:",omitempty"`
	Coupon string `json:",omitempty"`
}

// Seed derives a draw's seed.
func Seed(secret []byte, brandID, lotteryID, drawID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(brandID))
	m.Write([]byte{0})
	m.Write([]byte(lotteryID))
	m.Write([]byte{0})
	m.Write([]byte(drawID))
	return m.Sum(nil)
}

// Outcome maps a seed onto the odds: the roll and the prize it falls on.
func Outcome(seed []byte, odds []PrizeOdds) (roll int64, prize string) {
	roll = int64(binary.BigEndian.Uint64(seed[:8]) % OddsScale)
	var cum int64
	for _, o := range odds {
		cum += o.OddsPPM
		if roll < cum {
			return roll, o.ID
		}
	}
	return roll, ""
}

// ErrNoDraw: the member has no draw to use.
var ErrNoDraw = errors.New("no draw to use")

// DrawOnce uses one of the member's draws in lottery lotteryID inside l:
// it derives the seed, maps it onto the odds, and gives the prize if it is
// in stock and within the budget. Stock and budget are read and written in
// the same transaction, so concurrent draws never give more than stock.
func DrawOnce(l Ledger, lotteryID, memberID string, now time.Time) (Draw, error) {
	chances, err := l.DrawChances(memberID)
	if err != nil {
		return Draw{}, err
	}
	var ch *DrawChance
	for i := range chances {
		if chances[i].LotteryID == lotteryID {
			ch = &chances[i]
			break
		}
	}
	if ch == nil {
		return Draw{}, textErr(cloud.NotFound, TextLotteryNoDraw)
	}
	lot, err := l.Lottery(lotteryID)
	if err != nil {
		return Draw{}, err
	}
	d := Draw{BrandID: lot.BrandID, LotteryID: lot.ID, ID: ch.Key, MemberID: memberID, At: now}
	for _, p := range lot.Prizes {
		d.Odds = append(d.Odds, PrizeOdds{p.ID, p.OddsPPM})
	}
	seed := Seed(lot.Secret, lot.BrandID, lot.ID, d.ID)
	d.Seed = hex.EncodeToString(seed)
	d.Roll, d.Won = Outcome(seed, d.Odds)
	if d.Won != "" {
		i := indexPrize(lot.Prizes, d.Won)
		p := &lot.Prizes[i]
		switch {
		case p.Stock <= 0:
			d.Reason = TextLotteryOutOfStock.Code
		case lot.BudgetFen > 0 && satAdd(lot.SpentFen, p.CostFen) > lot.BudgetFen:
			d.Reason = TextOverBudget.Code
		default:
			p.Stock--
			lot.SpentFen = satAdd(lot.SpentFen, p.CostFen)
			d.Given = true
			reason := "lottery " + lot.ID
			if p.TemplateID != "" {
				if d.Coupon, _, err = l.IssueCoupon(memberID, p.TemplateID, 0, reason, now); err != nil {
					return Draw{}, fmt.Errorf("lottery %s prize %s: %w", lot.ID, p.ID, err)
				}
			}
			if p.Points > 0 {
				if err := l.AwardPoints(memberID, p.Points, reason, now); err != nil {
					return Draw{}, fmt.Errorf("lottery %s prize %s: %w", lot.ID, p.ID, err)
				}
			}
		}
	}
	lot.Draws++
	if err := l.PutLottery(lot); err != nil {
		return Draw{}, err
	}
	if err := l.DeleteDrawChance(*ch); err != nil {
		return Draw{}, err
	}
	return d, l.PutDraw(d)
}

func indexPrize(ps []Prize, id string) int {
	for i, p := range ps {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// VerifyDraw checks a recorded draw against the lottery's revealed secret
// and its published commitment: the secret matches the commitment, the
// seed is the one derived from it, and the prize is the one the seed's
// roll falls on.
func VerifyDraw(secret []byte, commitment string, d Draw) error {
	sum := sha256.Sum256(secret)
	if hex.EncodeToString(sum[:]) != commitment {
		return errors.New("the secret does not match the lottery's commitment")
	}
	seed := Seed(secret, d.BrandID, d.LotteryID, d.ID)
	if hex.EncodeToString(seed) != d.Seed {
		return fmt.Errorf("draw %s: recorded seed is not the one derived from the secret", d.ID)
	}
	roll, won := Outcome(seed, d.Odds)
	if roll != d.Roll || won != d.Won {
		return fmt.Errorf("draw %s: recorded roll %d prize %q, the seed gives roll %d prize %q", d.ID, d.Roll, d.Won, roll, won)
	}
	if d.Given && d.Won == "" {
		return fmt.Errorf("draw %s: a prize given on a losing roll", d.ID)
	}
	return nil
}
