//! What an application's collateral is worth to its product today: the officer's triage figure
//! and a disbursed loan's shortfall cover, computed the same way (`matching::lendable_value`).

use std::collections::{BTreeSet, HashMap};

use entity::{
    AssetKind, Money, Ratio, application_asset, asset, asset_valuation, loan_application,
    loan_product, product_collateral,
};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::assets::join_valid_valuations;
use crate::error::ApiError;
use crate::matching::lendable_value;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollateralSummary {
    /// The kinds of the pledged assets.
    pub kinds: Vec<AssetKind>,
    /// Σ the assets' current values (newest valid valuation).
    pub current_value: Money,
    /// Σ current value × the product's `max_ltv` for each kind, rounded down to the fen.
    pub max_loanable: Money,
}

/// What the triage needs of each application's collateral and product.
#[derive(Debug, Default)]
pub struct Collateral {
    /// Per application: its pledged assets (in id order) and their summary.
    pub pledged: HashMap<Uuid, (Vec<Uuid>, CollateralSummary)>,
    /// The products' names.
    pub product_names: HashMap<Uuid, String>,
}

#[derive(Debug, FromQueryResult)]
struct Pledge {
    application_id: Uuid,
    asset_id: Uuid,
    kind: AssetKind,
    value: Option<Money>,
}

#[derive(Debug, FromQueryResult)]
struct ProductTerms {
    id: Uuid,
    name: String,
    kind: Option<AssetKind>,
    max_ltv: Option<Ratio>,
}

/// The collateral of each application, in two statements whatever their number: the pledged
/// assets with their valuations valid today (newest first, `assets::join_valid_valuations`), and the
/// products with their loan-to-value ratios.
pub async fn summaries(
    db: &impl ConnectionTrait,
    applications: &[&loan_application::Model],
) -> Result<Collateral, ApiError> {
    use application_asset::Column as L;
    use asset_valuation::Column as V;
    let backend = db.get_database_backend();
    let link = |c: L| Expr::col((application_asset::Entity, c));
    let mut pledges = Query::select()
        .column((application_asset::Entity, L::ApplicationId))
        .column((application_asset::Entity, L::AssetId))
        .column((asset::Entity, asset::Column::Kind))
        .column((asset_valuation::Entity, V::Value))
        .from(application_asset::Entity)
        .join(
            JoinType::InnerJoin,
            asset::Entity,
            Expr::col((asset::Entity, asset::Column::Id))
                .equals((application_asset::Entity, L::AssetId)),
        )
        .and_where(link(L::ApplicationId).is_in(applications.iter().map(|a| a.id)))
        .order_by((application_asset::Entity, L::ApplicationId), Order::Asc)
        .order_by((application_asset::Entity, L::AssetId), Order::Asc)
        .order_by((asset_valuation::Entity, V::AppraisalDate), Order::Desc)
        .order_by((asset_valuation::Entity, V::Id), Order::Desc)
        .to_owned();
    join_valid_valuations(&mut pledges, (asset::Entity, asset::Column::Id));
    let mut facts: HashMap<Uuid, Vec<(Uuid, AssetKind, Option<Money>)>> = HashMap::new();
    for pledge in Pledge::find_by_statement(backend.build(&pledges))
        .all(db)
        .await?
    {
        let assets = facts.entry(pledge.application_id).or_default();
        // Newest valuation first: later rows of the same asset are older valuations.
        if assets
            .last()
            .is_none_or(|(id, _, _)| *id != pledge.asset_id)
        {
            assets.push((pledge.asset_id, pledge.kind, pledge.value));
        }
    }

    let products: BTreeSet<Uuid> = applications.iter().filter_map(|a| a.product_id).collect();
    let terms = Query::select()
        .column((loan_product::Entity, loan_product::Column::Id))
        .column((loan_product::Entity, loan_product::Column::Name))
        .column((product_collateral::Entity, product_collateral::Column::Kind))
        .column((
            product_collateral::Entity,
            product_collateral::Column::MaxLtv,
        ))
        .from(loan_product::Entity)
        .join(
            JoinType::LeftJoin,
            product_collateral::Entity,
            Expr::col((
                product_collateral::Entity,
                product_collateral::Column::ProductId,
            ))
            .equals((loan_product::Entity, loan_product::Column::Id)),
        )
        .and_where(Expr::col((loan_product::Entity, loan_product::Column::Id)).is_in(products))
        .to_owned();
    let mut ltv: HashMap<Uuid, Vec<(AssetKind, Ratio)>> = HashMap::new();
    let mut product_names = HashMap::new();
    for row in ProductTerms::find_by_statement(backend.build(&terms))
        .all(db)
        .await?
    {
        product_names.insert(row.id, row.name);
        if let (Some(kind), Some(max_ltv)) = (row.kind, row.max_ltv) {
            ltv.entry(row.id).or_default().push((kind, max_ltv));
        }
    }

    let none = Vec::new();
    let pledged = applications
        .iter()
        .map(|a| {
            let assets = facts.get(&a.id).unwrap_or(&none);
            let product_ltv = a.product_id.and_then(|p| ltv.get(&p));
            let summary = CollateralSummary {
                kinds: assets.iter().fold(Vec::new(), |mut kinds, (_, kind, _)| {
                    if !kinds.contains(kind) {
                        kinds.push(*kind);
                    }
                    kinds
                }),
                current_value: Money::from_fen(
                    assets
                        .iter()
                        .filter_map(|(_, _, v)| v.map(Money::fen))
                        .sum(),
                ),
                max_loanable: lendable_value(
                    assets.iter().map(|(_, kind, value)| (*kind, *value)),
                    product_ltv.map_or(&[][..], Vec::as_slice),
                ),
            };
            let ids = assets.iter().map(|(id, _, _)| *id).collect();
            (a.id, (ids, summary))
        })
        .collect();
    Ok(Collateral {
        pledged,
        product_names,
    })
}
