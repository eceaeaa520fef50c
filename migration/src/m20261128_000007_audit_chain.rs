//! The tamper-evident audit record: every event is chained to its object's previous event
//! (`seq`, `prev_hash`, `hash`), each chain's head is a row of its own (writers on different
//! objects never wait on each other), and seals record a root over all chains. The events
//! written before this migration are chained here, in the order they were written.

use std::collections::HashMap;

use entity::{audit_chain, audit_event};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [
            big_integer(AuditEvents::Seq).default(0).to_owned(),
            string_len(AuditEvents::PrevHash, 64).default("").to_owned(),
            string_len(AuditEvents::Hash, 64).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditChains::Table)
                    .col(string_len(AuditChains::ObjectType, 32))
                    .col(uuid(AuditChains::ObjectId))
                    .col(big_integer(AuditChains::HeadSeq))
                    .col(string_len(AuditChains::HeadHash, 64))
                    .primary_key(
                        Index::create()
                            .col(AuditChains::ObjectType)
                            .col(AuditChains::ObjectId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditSeals::Table)
                    .col(pk_uuid(AuditSeals::Id))
                    .col(timestamp_with_time_zone(AuditSeals::SealedAt))
                    .col(timestamp_with_time_zone(AuditSeals::CoversUntil))
                    .col(big_integer(AuditSeals::Chains))
                    .col(big_integer(AuditSeals::Events))
                    .col(string_len(AuditSeals::Root, 64))
                    .col(string_len(AuditSeals::PrevHash, 64))
                    .col(string_len(AuditSeals::Hash, 64))
                    .to_owned(),
            )
            .await?;

        // A seal has one successor: two instances sealing at once cannot fork the seals' chain.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_seals_prev")
                    .table(AuditSeals::Table)
                    .col(AuditSeals::PrevHash)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Chain what exists, a page at a time, in the order it was written (ids are v7).
        let db = manager.get_connection();
        let mut heads: HashMap<(String, sea_orm_migration::sea_orm::prelude::Uuid), (i64, String)> =
            HashMap::new();
        let mut after: Option<sea_orm_migration::sea_orm::prelude::Uuid> = None;
        loop {
            let mut page = audit_event::Entity::find().order_by_asc(audit_event::Column::Id);
            if let Some(last) = after {
                page = page.filter(audit_event::Column::Id.gt(last));
            }
            let events = page.limit(1000).all(db).await?;
            let Some(last) = events.last().map(|e| e.id) else {
                break;
            };
            for event in events {
                let key = (event.object_type.clone(), event.object_id);
                let (seq, prev) = heads
                    .get(&key)
                    .map(|(seq, hash)| (seq + 1, hash.clone()))
                    .unwrap_or((1, audit_event::GENESIS.to_owned()));
                let chained = audit_event::Model {
                    seq,
                    prev_hash: prev,
                    ..event
                };
                let hash = chained.chain_hash();
                heads.insert(key, (seq, hash.clone()));
                audit_event::ActiveModel {
                    id: Set(chained.id),
                    seq: Set(seq),
                    prev_hash: Set(chained.prev_hash),
                    hash: Set(hash),
                    ..Default::default()
                }
                .update(db)
                .await?;
            }
            after = Some(last);
        }
        for ((object_type, object_id), (head_seq, head_hash)) in heads {
            audit_chain::Entity::insert(audit_chain::ActiveModel {
                object_type: Set(object_type),
                object_id: Set(object_id),
                head_seq: Set(head_seq),
                head_hash: Set(head_hash),
            })
            .exec_without_returning(db)
            .await?;
        }
        // One position per event in its chain; verification walks the chains in this order.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_chain")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ObjectType)
                    .col(AuditEvents::ObjectId)
                    .col(AuditEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_events_actor", AuditEvents::ActorId),
            ("idx_audit_events_action", AuditEvents::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .col(AuditEvents::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_audit_events_chain",
            "idx_audit_events_actor",
            "idx_audit_events_action",
        ] {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(AuditEvents::Table)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AuditSeals::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditChains::Table).to_owned())
            .await?;
        let db = manager.get_connection();
        for column in ["seq", "prev_hash", "hash"] {
            db.execute_unprepared(&format!("ALTER TABLE audit_events DROP COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    ActorId,
    Action,
    ObjectType,
    ObjectId,
    Id,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChains {
    Table,
    ObjectType,
    ObjectId,
    HeadSeq,
    HeadHash,
}

#[derive(DeriveIden)]
enum AuditSeals {
    Table,
    Id,
    SealedAt,
    CoversUntil,
    Chains,
    Events,
    Root,
    PrevHash,
    Hash,
}
