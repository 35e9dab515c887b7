package analytics

import "testing"

func TestCohortFigures(t *testing.T) {
	for _, tc := range []struct {
		c                Cohort
		aov, perCustomer int64
		repeat           float64
	}{
		{Cohort{}, 0, 0, 0},
		{Cohort{Customers: 2, Orders: 3, RevenueMinor: 35000, Repeaters: 1}, 11667, 17500, 0.5},
		{Cohort{Customers: 3, Orders: 2, RevenueMinor: 5}, 3, 2, 0},    // 2.5 rounds up, 1.67 to 2
		{Cohort{Customers: 1, Orders: 2, RevenueMinor: -3}, -2, -3, 0}, // refunds above the total: half away from zero
	} {
		if tc.c.AOVMinor() != tc.aov || tc.c.RevenuePerCustomerMinor() != tc.perCustomer || tc.c.RepeatRate() != tc.repeat {
			t.Errorf("%+v: AOV %d, per customer %d, repeat %.3f", tc.c, tc.c.AOVMinor(), tc.c.RevenuePerCustomerMinor(), tc.c.RepeatRate())
		}
	}
}

// Each click counts once, so the rate is at most 1 whatever the orders.
func TestConversionIsClicksFollowedByAnOrder(t *testing.T) {
	s := Stats{Clicks: 3, ClicksConverted: 1, ReferredOrders: 7, AfterClickOrders: 3, CodeOnlyOrders: 4}
	if c := s.Conversion(); c != 1.0/3 {
		t.Fatalf("conversion %.3f", c)
	}
	if (Stats{}).Conversion() != 0 || (Stats{RevenueMinor: 5}).ROI() != 0 {
		t.Fatal("no clicks or no cost: 0")
	}
}
