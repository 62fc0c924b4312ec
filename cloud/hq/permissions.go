package hq

import "slices"

// Action is something a page or a form does. Every handler names the
// action it performs and the server checks it against this table, so a
// hidden menu item is never the only guard.
type Action string

// Actions.
const (
	ViewDashboard    Action = "view_dashboard"
	ViewMembers      Action = "view_members"
	NoteMembers      Action = "note_members"
	AdjustBalances   Action = "adjust_balances"
	ViewProgramme    Action = "view_programme"
	EditProgramme    Action = "edit_programme"
	ViewCampaigns    Action = "view_campaigns"
	RunCampaigns     Action = "run_campaigns"
	ViewConflicts    Action = "view_conflicts"
	ResolveConflicts Action = "resolve_conflicts"
	ViewStores       Action = "view_stores"
	ManageStores     Action = "manage_stores"
	ImportData       Action = "import_data"
	ViewAudit        Action = "view_audit"
)

// readAll is what every brand role may look at.
var readAll = []Action{ViewDashboard, ViewMembers, ViewProgramme, ViewCampaigns, ViewConflicts, ViewStores}

// permissions is the one table of who may do what. The owner does
// everything; marketing runs the programme and campaigns; finance moves
// money and settles conflicts; a store manager looks after their stores'
// members (and sees only them); an auditor reads everything and changes
// nothing.
var permissions = map[Role][]Action{
	RolePlatform: slices.Concat(readAll, []Action{ManageStores, ViewAudit}),
	RoleOwner: slices.Concat(readAll, []Action{NoteMembers, AdjustBalances, EditProgramme, RunCampaigns,
		ResolveConflicts, ManageStores, ImportData, ViewAudit}),
	RoleMarketing:    slices.Concat(readAll, []Action{NoteMembers, EditProgramme, RunCampaigns, ImportData}),
	RoleFinance:      slices.Concat(readAll, []Action{AdjustBalances, ResolveConflicts, ViewAudit}),
	RoleStoreManager: {ViewDashboard, ViewMembers, NoteMembers, ViewStores},
	RoleAuditor:      slices.Concat(readAll, []Action{ViewAudit}),
}
