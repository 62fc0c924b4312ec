package kiosk

import (
	"fmt"
	"time"

	"github.com/memberpass/memberpass/agent/checkout"
)

// The kiosk's own words for the cashier and the manager, in one place as
// (code, zh, en), ready for the shared catalogue.
var (
	wordForbidden  = word("forbidden", "请求被拒绝：请在收银机本机的收银页面操作。", "Refused: use the counter page on this till.")
	wordHost       = word("host_refused", "请求被拒绝：请用本机地址（localhost）打开收银页面。", "Refused: open the counter page at this till's own address (localhost).")
	wordBadReq     = word("bad_request", "请求格式有误，请刷新页面后重试。", "The request was malformed. Reload the page and try again.")
	wordNotFound   = word("not_found", "未找到。", "Not found.")
	wordInternal   = word("internal", "本机出错，未记录。请重试；如仍失败请联系店长。", "Something failed on this till and nothing was recorded. Try again; if it keeps failing, call the manager.")
	wordSignIn     = word("sign_in_required", "请先用员工号和密码登录收银台。", "Sign in with your staff id and PIN first.")
	wordManager    = word("manager_required", "此操作需要店长登录。", "A manager must sign in for this.")
	wordWrongPIN   = word("wrong_pin", "员工号或密码不正确。", "Wrong staff id or PIN.")
	wordNoStaff    = word("no_staff", "本机尚未配置员工，无法登录；请店长按运维手册设置员工文件。", "No staff are set up on this till, so nobody can sign in. The manager sets up the staff file (see the operations notes).")
	wordNotScanned = word("member_not_scanned", "请先在本机扫描该会员的会员码或会员卡（几分钟内有效），或请店长授权。",
		"Scan this member's code or card at this till first (valid for a few minutes), or ask a manager to approve.")
	wordApproval   = word("approval_refused", "店长授权无效：员工号或密码不正确，或该员工不是店长。", "The approval was refused: wrong staff id or PIN, or not a manager.")
	wordUnreadable = word("account_unreadable", "读取会员信息失败，请重扫；如仍失败请联系店长。", "Could not read the member's account. Scan again; if it keeps failing, call the manager.")
	wordRevoked    = word("device_refused", "总部已停用本设备的凭证，收银照常记录但无法同步；请联系总部获取新的配对码。",
		"HQ has revoked this device's credentials. Visits are still recorded but cannot sync; ask HQ for a new pairing code.")
	wordRebuild   = word("replica_rebuild_started", "已开始重建会员数据；完成前沿用现有数据。", "Replica rebuild started; the current data serves until it completes.")
	wordNoRebuild = word("replica_rebuild_unavailable", "本机不支持重建会员数据。", "Replica rebuild is not available on this till.")
	wordNoJoin    = word("join_unavailable", "未配置入会页面（启动参数 --join-url）。", "No join page is configured (start the agent with --join-url).")
	wordTooLong   = word("too_long", "输入过长。", "The input is too long.")
)

func word(code, zh, en string) checkout.Refusal { return checkout.Refusal{Code: code, Zh: zh, En: en} }

func wordLocked(until time.Time) checkout.Refusal {
	return word("locked", fmt.Sprintf("密码错误次数过多，已锁定至 %s；请稍后再试或联系店长。", until.Local().Format("15:04")),
		fmt.Sprintf("Too many wrong PINs: sign-in is locked until %s. Try later or call the manager.", until.Local().Format("15:04")))
}

func wordStale(age time.Duration) checkout.Refusal {
	return word("replica_stale",
		fmt.Sprintf("会员数据已 %s 未与总部同步，显示可能不是最新；收银照常，网络恢复后自动同步。", age.Round(time.Minute)),
		fmt.Sprintf("Member data has not synced with HQ for %s and may be out of date. The counter keeps working; it syncs when the network is back.", age.Round(time.Minute)))
}
