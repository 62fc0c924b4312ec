package loyalty

import (
	"crypto/ed25519"
	"fmt"
	"strconv"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/proto/membercode"
)

// useCode records that the event's member code was used. The agent
// refuses a replay at its own counter; the cloud catches the same code
// used at two stores (or two tills) while they were offline. The first
// event to reach the cloud stands; a later one is rejected and the
// conflict is listed for HQ.
func (a *applyCtx) useCode(s *Service, memberID string) (*rejection, error) {
	if a.ev.Visit == nil || a.ev.Visit.CodeRef == "" {
		return nil, nil
	}
	ref := a.ev.Visit.CodeRef
	claims, err := membercode.ParseRef(ref)
	if err != nil {
		return rejectf("%v", err), nil
	}
	if claims.KeyID != membercode.IDOf(a.brand.MemberCodeKey.Public().(ed25519.PublicKey)) {
		return rejectf("member code %s was not signed with brand %s's key", ref, a.brand.ID), nil
	}
	if id := strconv.FormatUint(claims.MemberID, 10); id != a.ev.MemberID && id != memberID {
		return rejectf("member code %s is for member %s, the event says member %s", ref, id, a.ev.MemberID), nil
	}
	prior, err := a.tx.CodeUse(a.brand.ID, ref)
	switch {
	case err == nil:
		detail := fmt.Sprintf("member code %s was already used at store %s (device %s, event %s)", ref, prior.StoreID, prior.DeviceID, prior.EventID)
		if err := a.conflict("code_replayed", memberID, detail,
			"the event that reached the cloud first stands; this one is kept as rejected and counts for nothing"); err != nil {
			return nil, err
		}
		s.log.Warn("member code used twice", "brand", a.brand.ID, "member", memberID, "store", a.ev.StoreID,
			"other_store", prior.StoreID, "event", a.ev.ID, "other_event", prior.EventID)
		return rejectf("conflict: %s", detail), nil
	case !cloud.IsNotFound(err):
		return nil, err
	}
	return nil, a.tx.PutCodeUse(a.brand.ID, cloud.CodeUse{
		Ref: ref, EventID: a.ev.ID, StoreID: a.ev.StoreID, DeviceID: a.dev.ID, MemberID: memberID,
		ExpiresAt: claims.IssuedAt.Add(membercode.MaxTTL + s.CodeUseRetention),
	})
}
