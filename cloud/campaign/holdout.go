package campaign

import (
	"crypto/sha256"
	"encoding/binary"
)

// InHoldout reports whether a member is in a campaign's holdout: a stable
// pseudo-random share of holdoutBP basis points, decided by a hash of the
// campaign and the member alone, so every process, every run and every
// restart puts the same members in it without storing anything first.
// Members of the holdout are recorded as held out and never given or sent
// anything by the campaign.
func InHoldout(brandID, campaignID, memberID string, holdoutBP int) bool {
	if holdoutBP <= 0 {
		return false
	}
	h := sha256.New()
	for _, s := range []string{brandID, campaignID, memberID} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	return binary.BigEndian.Uint64(sum[:8])%10000 < uint64(holdoutBP)
}
