package campaign

import (
	"fmt"

	"github.com/memberpass/memberpass/cloud"
)

// Text is a user-facing sentence in Chinese and English, with a code the
// tests and the message catalogue use.
type Text struct {
	Code string
	ZH   string
	EN   string
}

// The package's texts, in one place until the message catalogue lands.
var (
	TextBadID                = Text{"campaign.bad_id", "%s「%s」无效：须为 1 到 %d 个字符", "%s %q is not valid: want 1 to %d characters"}
	TextBadName              = Text{"campaign.bad_name", "活动名称须为 1 到 %d 字节", "the campaign name must be 1 to %d bytes"}
	TextActionCount          = Text{"campaign.action_count", "活动须有 1 到 %d 个动作", "a campaign takes 1 to %d actions"}
	TextKnownActionsReferral = Text{"campaign.known_actions", "老客户奖励只用于推荐活动", "known-customer rewards are for referral campaigns only"}
	TextBadHoldout           = Text{"campaign.bad_holdout", "对照组比例须为 0 到 %d 基点", "the holdout must be 0 to %d basis points"}
	TextBadBudget            = Text{"campaign.bad_budget", "预算上限不能为负", "budget caps cannot be negative"}
	TextBadAudience          = Text{"campaign.bad_audience", "受众条件无效（每项最多 %d 个）", "the audience filter is not valid (at most %d of each)"}
	TextBadWindow            = Text{"campaign.bad_window", "开始时间须早于结束时间", "the start must be before the end"}
	TextBadTrigger           = Text{"campaign.bad_trigger", "触发条件 %s 的 %s 无效：%v", "trigger %s: %s %v is not valid"}
	TextBadTriggerKind       = Text{"campaign.bad_trigger_kind", "未知的触发类型「%s」", "trigger kind %q is not known"}
	TextBadAction            = Text{"campaign.bad_action", "动作 %s 的 %s 无效：%v", "action %s: %s %v is not valid"}
	TextBadActionKind        = Text{"campaign.bad_action_kind", "未知的动作类型「%s」", "action kind %q is not known"}
	TextBadState             = Text{"campaign.bad_state", "活动处于「%s」状态，不能%s", "the campaign is %s and cannot be %s"}
	TextExists               = Text{"campaign.exists", "活动「%s」已存在", "campaign %q already exists"}
	TextNotFound             = Text{"campaign.not_found", "活动「%s」不存在", "campaign %q does not exist"}
	TextNoProof              = Text{"campaign.no_proof", "无对照组：无法证明效果", "no holdout: no proof"}
	TextNotEnoughData        = Text{"campaign.not_enough_data", "数据不足", "not enough data"}
	TextOverBudget           = Text{"campaign.over_budget", "超出预算", "over budget"}
	TextHeldOut              = Text{"campaign.held_out", "对照组：不发送", "holdout: nothing sent"}
	TextBirthdayTreat        = Text{"campaign.birthday_treat", "生日礼", "birthday treat"}
	TextVisitReward          = Text{"campaign.visit_reward", "第%d次到店奖励", "visit %d reward"}
	TextDraw                 = Text{"campaign.draw", "抽奖", "draw"}
	TextLotteryOutOfStock    = Text{"lottery.out_of_stock", "奖品已抽完", "prize out of stock"}
	TextLotteryNoDraw        = Text{"lottery.no_draw", "没有可用的抽奖机会", "no draw to use"}
	TextLotteryBad           = Text{"lottery.bad", "抽奖设置无效：%s", "the lottery is not valid: %s"}
)

// Format fills the text's English sentence (errors carry English; the
// code finds the Chinese).
func (t Text) Format(args ...any) string { return fmt.Sprintf(t.EN, args...) }

// FormatZH fills the Chinese sentence.
func (t Text) FormatZH(args ...any) string { return fmt.Sprintf(t.ZH, args...) }

// TextError is an application error that keeps its text code.
type TextError struct {
	Err  *cloud.Error
	Text Text
	Args []any
}

func (e *TextError) Error() string { return e.Err.Error() }

// Unwrap lets cloud.ErrorCode and cloud.ErrorMessage see the code.
func (e *TextError) Unwrap() error { return e.Err }

func textErr(code cloud.Code, t Text, args ...any) error {
	msg := t.Format(args...) + " / " + t.FormatZH(args...)
	return &TextError{Err: &cloud.Error{Code: code, Message: msg}, Text: t, Args: args}
}

// TextCode returns the text code of an error from this package, or "".
func TextCode(err error) string {
	for e := err; e != nil; {
		if te, ok := e.(*TextError); ok {
			return te.Text.Code
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return ""
		}
		e = u.Unwrap()
	}
	return ""
}
