"""weight_profile holds the inspection checklists' weight profiles too

The foundation's ``weight_profile`` gains a ``kind`` (``indicator_system`` | ``checklist``),
a nullable ``checklist_id``, ``checklist_weights`` (JSON, weight by checklist indicator code),
``note``, ``created_by_id`` and ``active``; ``system_id`` and ``valid_from`` become nullable
(a check constraint keeps them required for indicator-system profiles) and ``code`` grows to
96 characters. Every row of ``inspection_weight_profile`` moves over with its history
(method, inputs, note, author, active flag, times): the rows of one key keep their order as
revisions ``<checklist>.v<version>.<key>.r<n>``. Visits name the profile that scored them
as ``…@<row id>``; those names follow the rows to their new ids. The old table is dropped.

On SQLite the ALTERs rebuild ``weight_profile`` (batch mode); dropping the old copy would
cascade to the ``weight`` rows while foreign keys are enforced, so they are kept aside and
written back.

Revision ID: 0202_weight_profiles_unified
Revises: 0201_inspection_weight_profiles
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0202_weight_profiles_unified"
down_revision: str | Sequence[str] | None = "0201_inspection_weight_profiles"
branch_labels: str | Sequence[str] | None = None
# weight_profile and app_user are the foundation's (an ancestor already; said out loud).
depends_on: str | Sequence[str] | None = "0001_foundation"

CHECK = (
    "(kind = 'indicator_system' AND system_id IS NOT NULL AND checklist_id IS NULL"
    " AND valid_from IS NOT NULL)"
    " OR (kind = 'checklist' AND checklist_id IS NOT NULL AND system_id IS NULL)"
)

_meta = sa.MetaData()
weight_profile = sa.Table(
    "weight_profile",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(96)),
    sa.Column("kind", sa.String(16)),
    sa.Column("name_zh", sa.String(200)),
    sa.Column("name_en", sa.String(200)),
    sa.Column("system_id", sa.Integer),
    sa.Column("checklist_id", sa.Integer),
    sa.Column("tier", sa.String(32)),
    sa.Column("in_province", sa.Boolean),
    sa.Column("traffic_band", sa.String(16)),
    sa.Column("stage", sa.String(16)),
    sa.Column("valid_from", sa.String(16)),
    sa.Column("valid_to", sa.String(16)),
    sa.Column("method", sa.String(32)),
    sa.Column("inputs", sa.JSON),
    sa.Column("checklist_weights", sa.JSON),
    sa.Column("note", sa.Text),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("active", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
old_table = sa.Table(
    "inspection_weight_profile",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("checklist_id", sa.Integer),
    sa.Column("tier", sa.String(32)),
    sa.Column("in_province", sa.Boolean),
    sa.Column("stage", sa.String(16)),
    sa.Column("traffic", sa.String(16)),
    sa.Column("weights", sa.JSON),
    sa.Column("method", sa.String(32)),
    sa.Column("inputs", sa.JSON),
    sa.Column("note", sa.Text),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("active", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
checklist = sa.Table(
    "inspection_checklist",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64)),
    sa.Column("version", sa.Integer),
    sa.Column("name_zh", sa.String(200)),
    sa.Column("name_en", sa.String(200)),
)
visit = sa.Table(
    "inspection_visit",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("profile_code", sa.String(96)),
)
weight = sa.Table(
    "weight",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("profile_id", sa.Integer),
    sa.Column("node_id", sa.Integer),
    sa.Column("weight", sa.Float),
)


def _slug(tier: str, in_province: bool | None, stage: str, traffic: str) -> str:
    prov = {True: "in", False: "out", None: "any"}[in_province]
    return f"{tier}.{prov}.{stage}.{traffic}"


@contextmanager
def _weights_kept() -> Iterator[None]:
    """Keep the ``weight`` rows across a rebuild of ``weight_profile`` on SQLite."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    rows = [dict(r._mapping) for r in bind.execute(sa.select(weight))]
    yield
    bind.execute(sa.delete(weight))
    if rows:
        bind.execute(sa.insert(weight), rows)


def _old_table_columns() -> list[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("in_province", sa.Boolean(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("traffic", sa.String(length=16), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["inspection_checklist.id"],
            name=op.f("fk_inspection_weight_profile_checklist_id_inspection_checklist"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_inspection_weight_profile_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_weight_profile")),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    with _weights_kept(), op.batch_alter_table("weight_profile", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=16), nullable=False, server_default="indicator_system"
            )
        )
        batch_op.add_column(sa.Column("checklist_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("checklist_weights", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.alter_column(
            "code",
            existing_type=sa.String(length=64),
            type_=sa.String(length=96),
            existing_nullable=False,
        )
        batch_op.alter_column("system_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("valid_from", existing_type=sa.String(length=16), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_weight_profile_checklist_id_inspection_checklist"),
            "inspection_checklist",
            ["checklist_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_weight_profile_created_by_id_app_user"),
            "app_user",
            ["created_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(op.f("ck_weight_profile_kind_target"), CHECK)
        batch_op.create_index(batch_op.f("ix_weight_profile_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_weight_profile_checklist_id"), ["checklist_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_weight_profile_active"), ["active"], unique=False)

    lists = {r.id: r for r in bind.execute(sa.select(checklist))}
    revisions: dict[tuple[Any, ...], int] = {}
    for r in bind.execute(sa.select(old_table).order_by(old_table.c.id)).all():
        cl = lists[r.checklist_id]
        slug = _slug(r.tier, r.in_province, r.stage, r.traffic)
        key = (r.checklist_id, slug)
        revisions[key] = n = revisions.get(key, 0) + 1
        pk = bind.execute(
            sa.insert(weight_profile).values(
                code=f"{cl.code}.v{cl.version}.{slug}.r{n}",
                kind="checklist",
                name_zh=f"{cl.name_zh} v{cl.version} {slug}",
                name_en=f"{cl.name_en} v{cl.version} {slug}",
                checklist_id=r.checklist_id,
                tier=r.tier,
                in_province=r.in_province,
                traffic_band=r.traffic,
                stage=r.stage,
                method=r.method,
                inputs=r.inputs or {},
                checklist_weights=r.weights,
                note=r.note or "",
                created_by_id=r.created_by_id,
                active=r.active,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
        ).inserted_primary_key
        assert pk is not None
        new_id = pk[0]
        scored_as = f"{cl.code}.v{cl.version}.{slug}"
        bind.execute(
            sa.update(visit)
            .where(visit.c.profile_code == f"{scored_as}@{r.id}")
            .values(profile_code=f"{scored_as}@{new_id}")
        )

    with op.batch_alter_table("inspection_weight_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_weight_profile_checklist_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_weight_profile_active"))
    op.drop_table("inspection_weight_profile")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table("inspection_weight_profile", *_old_table_columns())
    with op.batch_alter_table("inspection_weight_profile", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_weight_profile_active"), ["active"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspection_weight_profile_checklist_id"), ["checklist_id"], unique=False
        )
    lists = {r.id: r for r in bind.execute(sa.select(checklist))}
    rows = bind.execute(
        sa.select(weight_profile)
        .where(weight_profile.c.kind == "checklist")
        .order_by(weight_profile.c.id)
    ).all()
    for r in rows:
        pk = bind.execute(
            sa.insert(old_table).values(
                checklist_id=r.checklist_id,
                tier=r.tier,
                in_province=r.in_province,
                stage=r.stage,
                traffic=r.traffic_band,
                weights=r.checklist_weights or {},
                method=r.method,
                inputs=r.inputs or {},
                note=r.note or "",
                created_by_id=r.created_by_id,
                active=r.active,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
        ).inserted_primary_key
        assert pk is not None
        old_id = pk[0]
        cl = lists[r.checklist_id]
        scored_as = (
            f"{cl.code}.v{cl.version}.{_slug(r.tier, r.in_province, r.stage, r.traffic_band)}"
        )
        bind.execute(
            sa.update(visit)
            .where(visit.c.profile_code == f"{scored_as}@{r.id}")
            .values(profile_code=f"{scored_as}@{old_id}")
        )
    bind.execute(sa.delete(weight_profile).where(weight_profile.c.kind == "checklist"))

    with _weights_kept(), op.batch_alter_table("weight_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weight_profile_active"))
        batch_op.drop_index(batch_op.f("ix_weight_profile_checklist_id"))
        batch_op.drop_index(batch_op.f("ix_weight_profile_kind"))
        batch_op.drop_constraint(op.f("ck_weight_profile_kind_target"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_weight_profile_created_by_id_app_user"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_weight_profile_checklist_id_inspection_checklist"), type_="foreignkey"
        )
        batch_op.alter_column("valid_from", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("system_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "code",
            existing_type=sa.String(length=96),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.drop_column("active")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("note")
        batch_op.drop_column("checklist_weights")
        batch_op.drop_column("checklist_id")
        batch_op.drop_column("kind")
