package sqlstore

import (
	"database/sql"

	"github.com/memberpass/memberpass/cloud"
)

const memberCols = `brand_id, member_id, phone, name, birthday, visits, created_at, last_visit_at,
	source_channel, source_store_id, source_staff_id, source_campaign_id, source_referrer_id,
	consent, tags, tier_id, tier_since, points, sv_principal_fen, sv_bonus_fen, total_spend_fen, merged_into, birthday_lunar,
	source_platform, source_deal_id`

func scanMember(r interface{ Scan(...any) error }) (cloud.Member, error) {
	var m cloud.Member
	s := &m.Source
	err := r.Scan(&m.BrandID, &m.ID, str{&m.Phone}, &m.Name, str{&m.Birthday}, u64{&m.Visits}, tm{&m.CreatedAt}, tm{&m.LastVisitAt},
		&s.Channel, str{&s.StoreID}, str{&s.StaffID}, str{&s.CampaignID}, str{&s.ReferrerID},
		boolean{&m.Consent}, jsonCol{&m.Tags}, &m.TierID, tm{&m.TierSince}, &m.Points, &m.SVPrincipal, &m.SVBonus, &m.TotalSpendFen, str{&m.MergedInto}, boolean{&m.BirthdayLunar},
		str{&s.Platform}, str{&s.DealID})
	return m, err
}

// maxInList bounds the parameters of one IN list.
const maxInList = 500

// cardsOf fills in the cards bound to members, oldest binding first.
func (t *tx) cardsOf(brand string, members []string, into map[string]cloud.Member) error {
	if len(members) == 0 {
		return nil
	}
	return t.query("read members' cards", `select member_id, number from cards where brand_id = $1 and member_id in (`+t.e.placeholders(2, len(members))+`)
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
