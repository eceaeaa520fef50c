//! What an application's collateral is worth to its product today: the officer's triage figure
//! and a disbursed loan's shortfall cover, computed the same way (`matching::lendable_value`).

use std::collections::{BTreeSet, HashMap};

use entity::{
    AssetKind, Money, Ratio, application_asset, asset, loan_application, product_collateral,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::assets::current_values;
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

/// The collateral summary of each application, in four queries whatever their number.
pub async fn summaries(
    db: &impl ConnectionTrait,
    applications: &[&loan_application::Model],
) -> Result<HashMap<Uuid, CollateralSummary>, ApiError> {
    let links: Vec<(Uuid, Uuid)> = application_asset::Entity::find()
        .select_only()
        .column(application_asset::Column::ApplicationId)
        .column(application_asset::Column::AssetId)
        .filter(application_asset::Column::ApplicationId.is_in(applications.iter().map(|a| a.id)))
        .into_tuple()
        .all(db)
        .await?;
    let asset_ids: Vec<Uuid> = links.iter().map(|(_, asset)| *asset).collect();
    let kinds: HashMap<Uuid, AssetKind> = asset::Entity::find()
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::Kind)
        .filter(asset::Column::Id.is_in(asset_ids.clone()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let values = current_values(db, asset_ids).await?;
    let products: BTreeSet<Uuid> = applications.iter().filter_map(|a| a.product_id).collect();
    let mut ltv: HashMap<Uuid, Vec<(AssetKind, Ratio)>> = HashMap::new();
    for row in product_collateral::Entity::find()
        .filter(product_collateral::Column::ProductId.is_in(products))
        .all(db)
        .await?
    {
        ltv.entry(row.product_id)
            .or_default()
            .push((row.kind, row.max_ltv));
    }
    let mut pledged: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (application, asset) in links {
        pledged.entry(application).or_default().push(asset);
    }
    let none = Vec::new();
    Ok(applications
        .iter()
        .map(|a| {
            let assets = pledged.get(&a.id).unwrap_or(&none);
            let facts: Vec<(AssetKind, Option<Money>)> = assets
                .iter()
                .filter_map(|id| kinds.get(id).map(|k| (*k, values.get(id).map(|v| v.value))))
                .collect();
            let product_ltv = a.product_id.and_then(|p| ltv.get(&p));
            let summary = CollateralSummary {
                kinds: facts.iter().fold(Vec::new(), |mut kinds, (kind, _)| {
                    if !kinds.contains(kind) {
                        kinds.push(*kind);
                    }
                    kinds
                }),
                current_value: Money::from_fen(
                    facts.iter().filter_map(|(_, v)| v.map(Money::fen)).sum(),
                ),
                max_loanable: lendable_value(
                    facts.iter().copied(),
                    product_ltv.map_or(&[][..], Vec::as_slice),
                ),
            };
            (a.id, summary)
        })
        .collect())
}
