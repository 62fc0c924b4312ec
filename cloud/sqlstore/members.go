package sqlstore

import (
	"database/sql"

	"github.com/memberpass/memberpass/cloud"
)

const memberCols = `brand_id, member_id, phone, name, birthday, visits, created_at, last_visit_at,
	source_channel, source_store_id, source_staff_id, source_campaign_id, source_referrer_id,
	consent, tags, tier_id, tier_since, points, sv_principal_fen, sv_bonus_fen, total_spend_fen, merged_into,
	source_platform, source_deal_id`

func scanMember(r interface{ Scan(...any) error }) (cloud.Member, error) {
	var m cloud.Member
	s := &m.Source
	err := r.Scan(&m.BrandID, &m.ID, str{&m.Phone}, &m.Name, str{&m.Birthday}, u64{&m.Visits}, tm{&m.CreatedAt}, tm{&m.LastVisitAt},
		&s.Channel, str{&s.StoreID}, str{&s.StaffID}, str{&s.CampaignID}, str{&s.ReferrerID},
		boolean{&m.Consent}, jsonCol{&m.Tags}, &m.TierID, tm{&m.TierSince}, &m.Points, &m.SVPrincipal, &m.SVBonus, &m.TotalSpendFen, str{&m.MergedInto},
		str{&s.Platform}, str{&s.DealID})
	return m, err
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

// maxInList bounds the parameters of one IN list.
const maxInList = 500

func (t *tx) MembersByIDs(brand string, list []string) (map[string]cloud.Member, error) {
	out := make(map[string]cloud.Member, len(list))
	for _, part := range chunks(list, maxInList) {
		var found []string
		err := t.query("read members", `select `+memberCols+` from members where brand_id = $1 and member_id in (`+placeholders(2, len(part))+`)`,
			ids([]any{brand}, part), func(r *sql.Rows) error {
				m, err := scanMember(r)
				out[m.ID] = m
				found = append(found, m.ID)
				return err
			})
		if err != nil {
			return nil, err
		}
		if err := t.cardsOf(brand, found, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// cardsOf fills in the cards bound to members, oldest binding first.
func (t *tx) cardsOf(brand string, members []string, into map[string]cloud.Member) error {
	if len(members) == 0 {
		return nil
	}
	return t.query("read members' cards", `select member_id, number from cards where brand_id = $1 and member_id in (`+placeholders(2, len(members))+`)
		and not revoked order by bound_at, number`, ids([]any{brand}, members), func(r *sql.Rows) error {
		var id, number string
		if err := r.Scan(&id, &number); err != nil {
			return err
		}
		m := into[id]
		m.Cards = append(m.Cards, number)
		into[id] = m
		return nil
	})
}

func (t *tx) PutMember(m cloud.Member) error {
	if m.Phone != "" {
		owner, err := t.MemberIDByPhone(m.BrandID, m.Phone)
		if err != nil && !cloud.IsNotFound(err) {
			return err
		}
		if err == nil && owner != m.ID {
			return cloud.Errorf(cloud.Conflict, "phone %s already belongs to member %s", m.Phone, owner)
		}
	}
	s := m.Source
	_, err := t.exec("write member", `insert into members (`+memberCols+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		on conflict (brand_id, member_id) do update set phone = excluded.phone, name = excluded.name, birthday = excluded.birthday,
		visits = excluded.visits, last_visit_at = excluded.last_visit_at, source_channel = excluded.source_channel,
		source_store_id = excluded.source_store_id, source_staff_id = excluded.source_staff_id,
		source_campaign_id = excluded.source_campaign_id, source_referrer_id = excluded.source_referrer_id,
		consent = excluded.consent, tags = excluded.tags, tier_id = excluded.tier_id, tier_since = excluded.tier_since,
		points = excluded.points, sv_principal_fen = excluded.sv_principal_fen, sv_bonus_fen = excluded.sv_bonus_fen,
		total_spend_fen = excluded.total_spend_fen, merged_into = excluded.merged_into,
		source_platform = excluded.source_platform, source_deal_id = excluded.source_deal_id`,
		m.BrandID, m.ID, ns(m.Phone), m.Name, ns(m.Birthday), int64(m.Visits), ts(m.CreatedAt), nts(m.LastVisitAt),
		s.Channel, ns(s.StoreID), ns(s.StaffID), ns(s.CampaignID), ns(s.ReferrerID),
		m.Consent, js(m.Tags), m.TierID, nts(m.TierSince), m.Points, m.SVPrincipal, m.SVBonus, m.TotalSpendFen, ns(m.MergedInto),
		ns(s.Platform), ns(s.DealID))
	return err
}

func (t *tx) MemberIDByPhone(brand, phone string) (string, error) {
	var id string
	found, err := t.one("find member by phone", `select member_id from members where brand_id = $1 and phone = $2`, []any{brand, phone}, &id)
	if err == nil && !found {
		err = cloud.Errorf(cloud.NotFound, "no member with phone %s", phone)
	}
	return id, err
}

func (t *tx) CountMembers(brand string) (uint64, error) {
	var n uint64
	_, err := t.one("count members", `select count(*) from members where brand_id = $1`, []any{brand}, u64{&n})
	return n, err
}

// membersPage is how many members Members reads per query; each page is
// read whole before fn sees it, so fn may use the transaction.
const membersPage = 500

func (t *tx) Members(brand string, fn func(cloud.Member) (bool, error)) error {
	after := ""
	for {
		var page []string
		got := map[string]cloud.Member{}
		err := t.query("list members", `select `+memberCols+` from members where brand_id = $1 and member_id > $2 order by member_id limit $3`,
			[]any{brand, after, membersPage}, func(r *sql.Rows) error {
				m, err := scanMember(r)
				got[m.ID] = m
				page = append(page, m.ID)
				return err
			})
		if err != nil {
			return err
		}
		if err := t.cardsOf(brand, page, got); err != nil {
			return err
		}
		for _, id := range page {
			if more, err := fn(got[id]); err != nil || !more {
				return err
			}
		}
		if len(page) < membersPage {
			return nil
		}
		after = page[len(page)-1]
	}
}

func (t *tx) Card(brand, number string) (cloud.Card, error) {
	c := cloud.Card{BrandID: brand, Number: number}
	found, err := t.one("read card", `select member_id, revoked from cards where brand_id = $1 and number = $2`, []any{brand, number}, &c.MemberID, boolean{&c.Revoked})
	if err == nil && !found {
		err = notFound("card %q", number)
	}
	return c, err
}

func (t *tx) PutCard(c cloud.Card) error {
	_, err := t.exec("write card", `insert into cards (brand_id, number, member_id, revoked, bound_at) values ($1, $2, $3, $4, $5)
		on conflict (brand_id, number) do update set member_id = excluded.member_id, revoked = excluded.revoked`,
		c.BrandID, c.Number, c.MemberID, c.Revoked, now())
	return err
}

func (t *tx) LocalRef(brand, ref string) (string, error) {
	var id string
	found, err := t.one("resolve local reference", `select member_id from local_refs where brand_id = $1 and ref = $2`, []any{brand, ref}, &id)
	if err == nil && !found {
		err = cloud.Errorf(cloud.NotFound, "no member enrolled with reference %q", ref)
	}
	return id, err
}

func (t *tx) PutLocalRef(brand, ref, memberID string) error {
	_, err := t.exec("write local reference", `insert into local_refs (brand_id, ref, member_id) values ($1, $2, $3)
		on conflict (brand_id, ref) do update set member_id = excluded.member_id`, brand, ref, memberID)
	return err
}
