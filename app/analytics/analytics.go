// Package analytics is what the merchant's dashboard shows for a date
// range: clicks, referred orders and revenue, conversion, reward cost, ROI,
// channels, top advocates, referred vs other customers' order value.
package analytics

import "time"

// Range is [From, To).
type Range struct{ From, To time.Time }

// Count is a named count.
type Count struct {
	Name  string
	Count int64
}

// Advocate is one of the top advocates.
type Advocate struct {
	Code         string
	Orders       int64
	RevenueMinor int64
}

// Day is one point of the chart.
type Day struct {
	Day          time.Time
	Orders       int64
	RevenueMinor int64
}

// Stats are the dashboard's figures. Amounts are in the shop currency's
// minor units; referred orders are referrals neither rejected nor reversed.
type Stats struct {
	Clicks           int64
	ReferredOrders   int64
	RevenueMinor     int64
	RewardCostMinor  int64
	ReferredAOVMinor int64
	OtherAOVMinor    int64
	Channels         []Count
	TopAdvocates     []Advocate
	Days             []Day
}

// Conversion is referred orders per click.
func (s Stats) Conversion() float64 {
	if s.Clicks == 0 {
		return 0
	}
	return float64(s.ReferredOrders) / float64(s.Clicks)
}

// ROI is referred revenue per unit of reward cost.
func (s Stats) ROI() float64 {
	if s.RewardCostMinor == 0 {
		return 0
	}
	return float64(s.RevenueMinor) / float64(s.RewardCostMinor)
}
