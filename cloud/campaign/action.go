package campaign

import (
	"github.com/memberpass/memberpass/cloud"
)

// ActionKind says what a campaign gives.
type ActionKind string

// Action kinds.
const (
	ActionCoupon           ActionKind = "coupon"             // a coupon from a template, with its own validity
	ActionPoints           ActionKind = "points"             // points, as a new lot
	ActionPointsMultiplier ActionKind = "points_multiplier"  // earn at a multiple for Days
	ActionStoredValueBonus ActionKind = "stored_value_bonus" // bonus stored value
	ActionMessage          ActionKind = "message"            // a message through the messaging service
	ActionLottery          ActionKind = "lottery"            // one draw in a lottery
)

// maxAmountFen bounds any single amount: 10 million yuan.
const maxAmountFen = 1_000_000_000

// Action is one thing a campaign gives a member; which fields count
// depends on Kind.
type Action struct {
	Kind ActionKind
	// TemplateID: the coupon template, or the message template.
	TemplateID string `json:",omitempty"`
	// ValidDays: the coupon's own validity from issue (0: the template's).
	ValidDays int `json:",omitempty"`
	// FaceFen: what one coupon costs the brand, for the money budget and
	// the preview (the template's amount off when 0).
	FaceFen int64 `json:",omitempty"`
	// Points to award.
	Points int64 `json:",omitempty"`
	// MultiplierBP and Days: earn points at MultiplierBP/10000 for Days.
	MultiplierBP int `json:",omitempty"`
	Days         int `json:",omitempty"`
	// BonusFen: stored-value bonus.
	BonusFen int64 `json:",omitempty"`
	// Channel: the message's channel (wechat, sms, webhook).
	Channel string `json:",omitempty"`
	// LotteryID: the lottery the member gets a draw in.
	LotteryID string `json:",omitempty"`
}

// Validate checks an action's fields for its kind.
func (a Action) Validate() error {
	bad := func(field string, v any) error { return textErr(cloud.Invalid, TextBadAction, a.Kind, field, v) }
	switch a.Kind {
	case ActionCoupon:
		if err := ValidID("coupon template", a.TemplateID); err != nil {
			return err
		}
		if a.ValidDays < 0 || a.ValidDays > 3660 {
			return bad("valid_days", a.ValidDays)
		}
		if a.FaceFen < 0 || a.FaceFen > maxAmountFen {
			return bad("face_fen", a.FaceFen)
		}
	case ActionPoints:
		if a.Points < 1 || a.Points > 100_000_000 {
			return bad("points", a.Points)
		}
	case ActionPointsMultiplier:
		if a.MultiplierBP <= 10000 || a.MultiplierBP > 100000 {
			return bad("multiplier_bp", a.MultiplierBP)
		}
		if a.Days < 1 || a.Days > 366 {
			return bad("days", a.Days)
		}
	case ActionStoredValueBonus:
		if a.BonusFen < 1 || a.BonusFen > maxAmountFen {
			return bad("bonus_fen", a.BonusFen)
		}
	case ActionMessage:
		if err := ValidID("message template", a.TemplateID); err != nil {
			return err
		}
		switch a.Channel {
		case "wechat", "sms", "webhook":
		default:
			return bad("channel", a.Channel)
		}
	case ActionLottery:
		if err := ValidID("lottery", a.LotteryID); err != nil {
			return err
		}
	default:
		return textErr(cloud.Invalid, TextBadActionKind, a.Kind)
	}
	return nil
}

// Cost is what the action gives one member, as the budget counts it. A
// multiplier's and a draw's cost is not known in advance: the draw's
// prizes are capped by the lottery's own budget and stock.
func (a Action) Cost() Cost {
	switch a.Kind {
	case ActionCoupon:
		return Cost{Coupons: 1, MoneyFen: a.FaceFen}
	case ActionPoints:
		return Cost{Points: a.Points}
	case ActionStoredValueBonus:
		return Cost{MoneyFen: a.BonusFen}
	}
	return Cost{}
}

// CostOf sums the cost of actions.
func CostOf(actions []Action) Cost {
	var c Cost
	for _, a := range actions {
		c = c.Add(a.Cost())
	}
	return c
}
