/** Hooks for metrics and logs of timers (all optional). */
export interface TimerObserver {
  /** A timer's command was applied (or answered as a repeat), `lateSeconds` after it was due. */
  fired?(entity: string, lateSeconds: number, repeat: boolean): void;
  /** Firing failed and the timer stays claimed until its lease ends (then fires again). */
  retried?(entity: string, error: unknown): void;
  /** The timer could not run (unknown entity, refused or failing command) and was dropped. */
  dropped?(entity: string, name: string, error: unknown): void;
}
