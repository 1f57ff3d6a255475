// The door access node's read-only admin endpoint: the last decisions of one
// node, newest first, for its edit dialog (permission findface-access.read).
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { AuditTrail, readRecentAudit } from '../lib/access/audit-trail';

const AUDIT_READ_DEFAULT = 50;
const AUDIT_READ_MAX = 500;

/** `auditDir` throws for an id whose directory would not be strictly inside the audit root. */
export function registerAuditEndpoint(RED: NodeAPI, auditDir: (id: string) => string, liveTrails: ReadonlyMap<string, AuditTrail>): void {
  RED.httpAdmin.get('/findface-access/:id/audit', RED.auth.needsPermission('findface-access.read'), (req: Request, res: Response) => {
    const id = String(req.params.id);
    const asked = Number(req.query.limit ?? AUDIT_READ_DEFAULT);
    const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, AUDIT_READ_MAX) : AUDIT_READ_DEFAULT;
    let dir: string;
    try {
      dir = auditDir(id);
    } catch (error) {
      res.status(400).json({ error: (error as Error).message });
      return;
    }
    const live = liveTrails.get(id);
    (live ? live.flush() : Promise.resolve())
      .then(() => readRecentAudit(dir, limit))
      .then(
        (records) => res.json(records),
        (error: Error) => res.status(500).json({ error: error.message }),
      );
  });
}
