import { sql } from 'drizzle-orm';
import { rows } from '../../platform/db/rows.js';
import { GridDuty, type GridDuty as Duty } from '@pingan/contracts';
import { type Actor, assertCoversPath } from '../../platform/access.js';
import { appendAudit } from '../../platform/audit/service.js';
import type { Database, Executor, Tx } from '../../platform/db/index.js';
import { forbidden, notFound, unprocessable } from '../../platform/errors.js';
import { maskPhone, mayReveal } from '../../platform/masking.js';
import { levelIndex, loadNode, newCardSlug } from './tree.js';

/** Order of duties on a card: the "4" first, then the N and N. */
const DUTY_ORDER: Record<Duty, number> = {
  grid_head: 0, grid_instructor: 1, grid_police: 2, grid_manager: 3, info_collector: 4, volunteer: 5,
};

export interface TeamMember {
  dutyId: string;
  personId: string;
  duty: Duty;
  name: string;
  title: string | null;
  phone: string | null;
  phonePublic: boolean;
  description: string | null;
  hasPhoto: boolean;
}

interface MemberRow extends Record<string, unknown> {
  duty_id: string;
  person_id: string;
  duty: string;
  name: string;
  title: string | null;
  phone: string | null;
  phone_public: boolean;
  description: string | null;
  has_photo: boolean;
}


async function membersOf(exec: Executor, nodeId: string): Promise<MemberRow[]> {
  const found = await rows<MemberRow>(
    exec,
    sql`select d.id as duty_id, p.id as person_id, d.duty, p.name, p.title, p.phone, p.phone_public,
          d.description, (p.photo is not null) as has_photo
        from grid_duty d join team_person p on p.id = d.person_id
        where d.node_id = ${nodeId} order by d.sort, p.name`,
  );
  return found.sort((a, b) => (DUTY_ORDER[a.duty as Duty] ?? 9) - (DUTY_ORDER[b.duty as Duty] ?? 9));
}

export interface PublicCard {
  nodeId: string;
  slug: string;
  code: string;
  name: string;
  level: string;
  station: { name: string; code: string } | null;
  supervisionPhone: string | null;
  notice: string | null;
  members: { personId: string; duty: Duty; name: string; title: string | null; phone: string | null; description: string | null; photoUrl: string | null }[];
}

export function createTeamService({ database }: { database: Database }) {
  const { db } = database;

  async function gridNode(actor: Actor | null, nodeId: string) {
    const node = await loadNode(db, nodeId);
    if (actor) assertCoversPath(actor, node.path);
    if (levelIndex(node.level) < levelIndex('grid')) {
      throw unprocessable(`${node.name} is a ${node.level}; teams and cards belong to grids and micro-grids.`);
    }
    return node;
  }

  return {
    /** The team of a grid; phones masked unless `reveal` by a role that needs them (audited). */
    async team(actor: Actor, nodeId: string, reveal: boolean): Promise<TeamMember[]> {
      const node = await gridNode(actor, nodeId);
      if (reveal && !mayReveal(actor.role, 'staffPhone')) throw forbidden('Your role may not see full phone numbers.');
      const members = await membersOf(db, nodeId);
      if (reveal) {
        await db.transaction((tx) =>
          appendAudit(tx, actor, {
            action: 'personal_data.read',
            entityType: 'grid_team',
            entityId: nodeId,
            nodePath: node.path,
            details: { fields: ['phone'], people: members.length },
          }),
        );
      }
      return members.map((m) => ({
        dutyId: m.duty_id,
        personId: m.person_id,
        duty: m.duty as Duty,
        name: m.name,
        title: m.title,
        phone: reveal ? m.phone : maskPhone(m.phone),
        phonePublic: m.phone_public,
        description: m.description,
        hasPhoto: m.has_photo,
      }));
    },

    /** Runs in the caller's transaction (the route's idempotent command). */
    async addMember(
      tx: Tx,
      actor: Actor,
      nodeId: string,
      input: {
        duty: Duty;
        description?: string | undefined;
        personId?: string | undefined;
        person?: { name: string; phone?: string | undefined; phonePublic?: boolean | undefined; title?: string | undefined } | undefined;
      },
    ): Promise<{ dutyId: string; personId: string }> {
      GridDuty.parse(input.duty);
      {
        const node = await loadNode(tx, nodeId);
        assertCoversPath(actor, node.path);
        if (levelIndex(node.level) < levelIndex('grid')) throw unprocessable('Teams belong to grids and micro-grids.');
        let personId = input.personId;
        if (personId) {
          const [p] = await rows<{ path: string }>(
            tx,
            sql`select n.path from team_person p join jurisdiction_node n on n.id = p.node_id where p.id = ${personId}`,
          );
          if (!p) throw notFound('The person');
          // A person of a neighbouring station can't be drafted: serve several grids within one tree.
          assertCoversPath(actor, p.path);
        } else if (input.person) {
          const [created] = await rows<{ id: string }>(
            tx,
            sql`insert into team_person (name, phone, phone_public, title, node_id)
                values (${input.person.name}, ${input.person.phone ?? null}, ${input.person.phonePublic ?? true}, ${input.person.title ?? null}, ${nodeId})
                returning id`,
          );
          personId = created!.id;
        } else {
          throw unprocessable('Name an existing person (personId) or a new one (person).', [{ field: 'body.person', message: 'is required without personId' }]);
        }
        const [duty] = await rows<{ id: string }>(
          tx,
          sql`insert into grid_duty (node_id, person_id, duty, description, sort)
              values (${nodeId}, ${personId}, ${input.duty}, ${input.description ?? null}, ${DUTY_ORDER[input.duty]}) returning id`,
        );
        await appendAudit(tx, actor, {
          action: 'grid_team.add',
          entityType: 'grid_duty',
          entityId: duty!.id,
          nodePath: node.path,
          details: { personId, duty: input.duty },
        });
        return { dutyId: duty!.id, personId: personId! };
      }
    },

    async removeMember(actor: Actor, nodeId: string, dutyId: string): Promise<void> {
      await db.transaction(async (tx) => {
        const node = await loadNode(tx, nodeId);
        assertCoversPath(actor, node.path);
        const removed = await rows<{ id: string }>(tx, sql`delete from grid_duty where id = ${dutyId} and node_id = ${nodeId} returning id`);
        if (removed.length === 0) throw notFound('The team duty');
        await appendAudit(tx, actor, { action: 'grid_team.remove', entityType: 'grid_duty', entityId: dutyId, nodePath: node.path });
      });
    },

    async updateCard(actor: Actor, nodeId: string, input: { supervisionPhone?: string | null | undefined; notice?: string | null | undefined }) {
      const node = await gridNode(actor, nodeId);
      await db.transaction(async (tx) => {
        await tx.execute(sql`insert into grid_card (node_id, slug) values (${nodeId}, ${newCardSlug()}) on conflict (node_id) do nothing`);
        if (input.supervisionPhone !== undefined) {
          await tx.execute(sql`update grid_card set supervision_phone = ${input.supervisionPhone}, updated_at = now() where node_id = ${nodeId}`);
        }
        if (input.notice !== undefined) {
          await tx.execute(sql`update grid_card set notice = ${input.notice}, updated_at = now() where node_id = ${nodeId}`);
        }
        await appendAudit(tx, actor, { action: 'grid_card.update', entityType: 'grid_card', entityId: nodeId, nodePath: node.path, details: { changed: Object.keys(input) } });
      });
    },

    /**
     * The public card: only what is meant for residents. Phones show in full only for people whose
     * phone is marked public (the grid police officer's duty phone, usually); others are left out.
     */
    async publicCard(by: { slug: string } | { nodeId: string }): Promise<PublicCard | null> {
      const cond = 'slug' in by ? sql`c.slug = ${by.slug}` : sql`c.node_id = ${by.nodeId}`;
      const [card] = await rows<{ node_id: string; slug: string; code: string; name: string; level: string; path: string; supervision_phone: string | null; notice: string | null }>(
        db,
        sql`select c.node_id, c.slug, n.code, n.name, n.level, n.path, c.supervision_phone, c.notice
            from grid_card c join jurisdiction_node n on n.id = c.node_id
            where ${cond} and n.retired_at is null`,
      );
      if (!card) return null;
      const ancestorIds = card.path.split('/').filter(Boolean);
      const [station] = await rows<{ name: string; code: string }>(
        db,
        sql`select name, code from jurisdiction_node where level = 'station' and id::text = any(string_to_array(${ancestorIds.join(',')}, ','))`,
      );
      const members = await membersOf(db, card.node_id);
      return {
        nodeId: card.node_id,
        slug: card.slug,
        code: card.code,
        name: card.name,
        level: card.level,
        station: station ?? null,
        supervisionPhone: card.supervision_phone,
        notice: card.notice,
        members: members.map((m) => ({
          personId: m.person_id,
          duty: m.duty as Duty,
          name: m.name,
          title: m.title,
          phone: m.phone_public ? m.phone : null,
          description: m.description,
          photoUrl: m.has_photo ? `/api/public/people/${m.person_id}/photo` : null,
        })),
      };
    },

    async photo(personId: string): Promise<{ data: Buffer; type: string } | null> {
      const [p] = await rows<{ photo: Buffer | Uint8Array | null; photo_type: string | null }>(db, sql`select photo, photo_type from team_person where id = ${personId}`);
      if (!p?.photo) return null;
      return { data: Buffer.from(p.photo), type: p.photo_type ?? 'image/jpeg' };
    },

    async setPhoto(actor: Actor, personId: string, data: Buffer, type: string): Promise<void> {
      await db.transaction(async (tx) => {
        const [p] = await rows<{ path: string }>(tx, sql`select n.path from team_person p join jurisdiction_node n on n.id = p.node_id where p.id = ${personId}`);
        if (!p) throw notFound('The person');
        assertCoversPath(actor, p.path);
        await tx.execute(sql`update team_person set photo = ${data}, photo_type = ${type} where id = ${personId}`);
        await appendAudit(tx, actor, { action: 'team_person.photo', entityType: 'team_person', entityId: personId, nodePath: p.path, details: { bytes: data.length, type } });
      });
    },
  };
}
