//! What one settled order (or bonus) adds to a member's qualification, in every basis at once,
//! so that changing the program's basis needs no recomputation from orders.

use super::config::Basis;

/// One source's standing contribution: what is left of it after refunds and cancellations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contribution {
    /// Points earned net of what was taken back.
    pub points: i64,
    /// Money spent net of refunds (minor units), never below zero.
    pub spent_minor: i64,
    /// 1 for an order that still stands, else 0.
    pub orders: i64,
}

impl Contribution {
    /// The contribution in the program's unit.
    pub fn in_basis(&self, basis: Basis) -> i64 {
        match basis {
            Basis::PointsEarned => self.points,
            Basis::AmountSpent => self.spent_minor,
            Basis::Orders => self.orders,
        }
    }

    /// An order's contribution: a cancelled order counts for nothing, a fully refunded one
    /// neither; a partial refund takes its money (and the points it earned) back.
    pub fn of_order(
        subtotal_minor: i64,
        total_minor: i64,
        refunded_minor: i64,
        cancelled: bool,
        net_points: i64,
    ) -> Contribution {
        if cancelled {
            return Contribution::default();
        }
        let fully_refunded = refunded_minor > 0 && refunded_minor >= total_minor;
        if fully_refunded {
            return Contribution {
                points: net_points.max(0),
                ..Contribution::default()
            };
        }
        Contribution {
            points: net_points.max(0),
            // Refunds include shipping and tax; the subtotal never goes below zero for them.
            spent_minor: subtotal_minor.saturating_sub(refunded_minor).max(0),
            orders: 1,
        }
    }

    /// A bonus line (sign-up, birthday, owner adjustment): points only.
    pub fn of_points(points: i64) -> Contribution {
        Contribution {
            points,
            ..Contribution::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_basis_reads_its_own_figure() {
        let c = Contribution::of_order(12_000, 13_460, 0, false, 120);
        assert_eq!(c.in_basis(Basis::PointsEarned), 120);
        assert_eq!(c.in_basis(Basis::AmountSpent), 12_000);
        assert_eq!(c.in_basis(Basis::Orders), 1);
    }

    #[test]
    fn refunds_and_cancellations_take_back_what_they_undo() {
        assert_eq!(
            Contribution::of_order(12_000, 13_460, 0, true, 0),
            Contribution::default()
        );
        let partial = Contribution::of_order(12_000, 13_460, 6_000, false, 60);
        assert_eq!(
            (partial.spent_minor, partial.orders, partial.points),
            (6_000, 1, 60)
        );
        let full = Contribution::of_order(12_000, 13_460, 13_460, false, 0);
        assert_eq!(full, Contribution::default());
        // A refund larger than the subtotal (shipping and tax too) leaves nothing, not less.
        let most = Contribution::of_order(1_000, 2_000, 1_500, false, 0);
        assert_eq!(most.spent_minor, 0);
        // A free order (total 0) that nobody refunded still stands.
        assert_eq!(Contribution::of_order(0, 0, 0, false, 0).orders, 1);
        assert_eq!(
            Contribution::of_points(-40).in_basis(Basis::PointsEarned),
            -40
        );
    }
}
