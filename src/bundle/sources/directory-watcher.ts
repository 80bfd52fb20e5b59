import { type FSWatcher, watch } from "node:fs";

/**
 * Calls `reload` after files under `dir` change, once the changes have settled for
 * `debounceMs` (editors write files in several steps). The reload itself keeps the last good
 * bundle when the new content is broken.
 */
export function watchDirectory(dir: string, debounceMs: number, reload: () => Promise<void>, recursive = true): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), debounceMs);
    });
    watcher.on("error", () => {});
  } catch {
    // Watching is a convenience; a folder that cannot be watched still serves what it loaded.
  }
  return {
    close: () => {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
