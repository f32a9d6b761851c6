import { createContext, useContext } from 'react';
import type { Me, Org, Role } from './types.ts';

export interface SessionValue {
  me: Me;
  /** Replaces the session info (after an org switch or enrolment). */
  setMe(me: Me): void;
  switchOrg(orgId: number): Promise<void>;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside a signed-in app');
  return v;
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** True when the current org grants at least `role`. */
export function can(org: Org | null, role: Role): boolean {
  return !!org && RANK[org.role] >= RANK[role];
}
