// Which exec sessions run in which container (inspect's ExecIDs), as Docker keeps
// container.ExecCommands: the container side owns the list, the exec service fills it.
export class RunningExecs {
  private readonly byContainer = new Map<string, Set<string>>();

  add(containerId: string, execId: string): void {
    let set = this.byContainer.get(containerId);
    if (!set) this.byContainer.set(containerId, (set = new Set()));
    set.add(execId);
  }

  delete(containerId: string, execId: string): void {
    const set = this.byContainer.get(containerId);
    set?.delete(execId);
    if (set && set.size === 0) this.byContainer.delete(containerId);
  }

  /** The container stopped or went away: none of its sessions runs any more. */
  clear(containerId: string): void {
    this.byContainer.delete(containerId);
  }

  /** IDs of the running sessions, or null (Docker's ExecIDs). */
  ids(containerId: string): string[] | null {
    const set = this.byContainer.get(containerId);
    return set && set.size > 0 ? [...set] : null;
  }
}
