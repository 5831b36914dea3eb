/** STS RoleSessionName: 2–64 characters of [\w+=,.@-]. It shows in the target's CloudTrail, so it names the deployment. */
export function buildSessionName(app: string, build: string): string {
  const cleaned = `ferry-${app}-${build}`.replace(/[^\w+=,.@-]/g, '-');
  return cleaned.length <= 64 ? cleaned : cleaned.slice(0, 64);
}
