/**
 * Unknown faces grouped by likeness at the live operating point: the groups, naming a group (all or chosen faces)
 * and dismissing it, both through the owner (src/enrol), which checks each face and keeps an Undo.
 */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';
import { clusterEmbeddings } from '../../match/cluster.js';
import { enrolAnswer, forced, mustBodyPerson, snapshotUrl } from './common.js';
import type { UnknownFace } from '../../store/unknowns.js';

export function unknownRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrol, facebank, unknowns } = deps;

  const clusters = async () => {
    const { threshold } = await enrol.operatingPoint();
    const faces = unknowns.list();
    const groups = clusterEmbeddings(
      faces.map((f) => f.embedding),
      { threshold },
    );
    return {
      threshold,
      groups: groups.map((g) => {
        const members = g.map((i) => faces[i]!);
        // The cluster id is its oldest member's id: stable while faces join.
        const oldest = members.reduce((a, b) => (a.time <= b.time ? a : b));
        return { id: oldest.id, members };
      }),
    };
  };

  app.get('/unknowns', async (c) => {
    const { threshold, groups } = await clusters();
    return c.json({
      threshold,
      clusters: groups.map((cl) => ({
        id: cl.id,
        size: cl.members.length,
        first: cl.members.reduce((a, b) => (a.time <= b.time ? a : b)).time,
        last: cl.members.reduce((a, b) => (a.time >= b.time ? a : b)).time,
        cameras: [...new Set(cl.members.map((m) => m.camera))],
        members: cl.members.map((m) => ({ id: m.id, camera: m.camera, time: m.time, snapshotUrl: snapshotUrl(m.snapshot) })),
      })),
    });
  });

  /** The group holding face `id`, or null when it is gone (named or dismissed already). */
  const findCluster = async (id: string | undefined) => {
    const cid = validId(id, 'cluster');
    return { cid, cl: (await clusters()).groups.find((x) => x.members.some((m) => m.id === cid)) ?? null };
  };

  app.post('/unknowns/:id/name', async (c) => {
    const { cid, cl } = await findCluster(c.req.param('id'));
    const body = await jsonBody(c);
    // memberIds: the faces the user ticked; the others stay unknown.
    let members: string[] = cl ? cl.members.map((m: UnknownFace) => m.id) : [cid];
    if (body.memberIds !== undefined) {
      if (!Array.isArray(body.memberIds) || body.memberIds.length === 0 || !body.memberIds.every((x) => typeof x === 'string'))
        fail(400, 'bad_members', 'memberIds lists at least one face of the group.');
      members = body.memberIds as string[];
      if (cl && !members.every((id) => cl.members.some((m) => m.id === id)))
        fail(409, 'members_gone', 'Some of the chosen faces are no longer in this group; reload.');
    }
    const target = body.personId !== undefined ? { personId: (await mustBodyPerson(facebank, body.personId)).id } : { name: body.name };
    return enrolAnswer(
      c,
      () => enrol.nameGroup(members, target, forced(c, body)),
      (r) =>
        c.json(
          {
            ok: true,
            already: r.already,
            personId: r.person?.id ?? null,
            created: r.created,
            sampleIds: r.results.flatMap((x) => (x.sampleId ? [x.sampleId] : [])),
            leftOut: r.leftOut,
            change: r.change,
          },
          r.already ? 200 : 201,
        ),
    );
  });

  app.post('/unknowns/:id/dismiss', async (c) => {
    const { cl } = await findCluster(c.req.param('id'));
    if (!cl) fail(404, 'not_found', 'That group of unknown faces is gone; reload.');
    const change = await enrol.dismissGroup(cl!.members.map((m) => m.id));
    return c.json({ ok: true, dismissed: cl!.members.length, change });
  });

  return app;
}
