// Photos and folders the app is asked to open from outside the window: its command line, the macOS
// Dock or "Open with" (which may come before the app is ready), a second launch. They are opened
// once the window can show them: at once when it is up, else when its page has loaded.
export class OpenRequests {
  private readonly waiting: string[];
  private opener: ((paths: string[]) => Promise<void>) | undefined;

  constructor(fromCommandLine: string[]) {
    this.waiting = [...fromCommandLine];
  }

  /** The service is up: from now on paths are opened with `open`. */
  ready(open: (paths: string[]) => Promise<void>): void {
    this.opener = open;
  }

  /** Paths to open: now, when ready and the window is up; else they wait for the page to load. */
  add(paths: string[], windowIsUp: boolean): void {
    if (paths.length === 0) return;
    if (this.opener && windowIsUp) void this.opener(paths);
    else this.waiting.push(...paths);
  }

  /** The window's page has loaded: what waited is opened. */
  pageLoaded(): void {
    if (!this.opener) return;
    const paths = this.waiting.splice(0);
    if (paths.length > 0) void this.opener(paths);
  }
}
