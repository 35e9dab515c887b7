package httpapi

import "github.com/parrain/parrain/app"

// storeProblems are the program's settings the shop's store cannot carry
// out, keyed like Program.Problems: store credit on a platform without it.
// The adapter says why (StoreCreditSupport); no handler knows platforms.
func (s *Server) storeProblems(shop *app.Shop, p app.Program) app.FieldErrors {
	bad := app.FieldErrors{}
	if p.RewardKind != app.OfferStoreCredit {
		return bad
	}
	if err := s.storeCreditSupport(shop); err != nil {
		bad["reward_kind"] = app.ErrorMessage(err)
	}
	return bad
}

// storeCreditSupport is nil when the shop's store can hold store credit.
func (s *Server) storeCreditSupport(shop *app.Shop) error {
	sc, ok := s.Stores.(interface{ StoreCreditSupport(*app.Shop) error })
	if !ok {
		return app.Errorf(app.EINVALID, "Store credit is not available for this store.")
	}
	return sc.StoreCreditSupport(shop)
}
