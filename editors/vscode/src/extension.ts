// The Vigil extension: starts `vigil lsp` over stdio and hands `.vigil` files to it.
// Highlighting comes from the TextMate grammar alone, so it works without the server.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

/** Starts the server and restarts it when `vigil.serverPath` changes. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for the whole session, so a restart does not open a second one.
  output = vscode.window.createOutputChannel("Vigil Language Server");
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand("vigil.restartServer", () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("vigil.serverPath")) {
        void restart();
      }
      // `vigil.trace.server` is read by the client itself, live; no restart needed.
    }),
  );

  await start();
}

/** Stops the server when VS Code shuts the extension down. */
export async function deactivate(): Promise<void> {
  await stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // A server that already died cannot be stopped; there is nothing left to clean up.
    }
  }
}

async function start(): Promise<void> {
  const configured = vscode.workspace.getConfiguration("vigil").get<string>("serverPath", "vigil").trim() || "vigil";
  const command = resolveServer(configured);
  if (command === undefined) {
    const choice = await vscode.window.showErrorMessage(
      `Vigil: the language server binary \`${configured}\` was not found. ` +
        "Build it with `cargo build -p vigil` and set `vigil.serverPath` to the binary " +
        "(for example <repo>/target/debug/vigil), or put `vigil` on PATH.",
      "Open Settings",
    );
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "vigil.serverPath");
    }
    return;
  }

  // `vigil lsp` talks JSON-RPC on stdin/stdout; TransportKind.stdio also passes `--stdio`,
  // which the server accepts.
  const serverOptions: ServerOptions = {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "vigil" },
      { scheme: "untitled", language: "vigil" },
    ],
    // The server checks every file of a rulebook folder, so it must hear of changes on disk.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.vigil"),
    },
    outputChannel: output,
    traceOutputChannel: output,
  };

  const created = new LanguageClient("vigil", "Vigil Language Server", serverOptions, clientOptions);
  client = created;
  try {
    await created.start();
  } catch (error) {
    client = undefined;
    const reason = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(
      `Vigil: could not start \`${command} lsp\`: ${reason}. Check \`vigil.serverPath\`.`,
    );
  }
}

/**
 * The executable to run for `configured`, or undefined when there is none: a path (with a
 * separator, or starting with `~`) must name a file; a bare name is looked up on PATH, so the
 * user gets a clear message instead of the client's generic "spawn ENOENT".
 */
function resolveServer(configured: string): string | undefined {
  let candidate = configured;
  if (candidate.startsWith("~/") || candidate === "~") {
    candidate = path.join(process.env.HOME ?? process.env.USERPROFILE ?? "", candidate.slice(1));
  }
  if (candidate.includes("/") || candidate.includes("\\")) {
    if (!path.isAbsolute(candidate)) {
      // A relative path is relative to the first workspace folder, the repository in practice.
      const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      if (root !== undefined) {
        candidate = path.join(root, candidate);
      }
    }
    return isExecutable(candidate) ? candidate : undefined;
  }
  // On Windows a bare `vigil` is `vigil.exe`; a name that already has its extension is tried as is.
  const extensions = process.platform === "win32" ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") {
      continue;
    }
    for (const ext of extensions) {
      const full = path.join(dir, candidate + ext);
      if (isExecutable(full)) {
        return full;
      }
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
