//! The Explorer in a real browser: `paxos-model explore` driven by headless Chromium, clicked
//! as a person would click it, and every page checked against the library.
//!
//! 1. The page loads and is used with no JavaScript error: no uncaught exception, no
//!    `console.error`, no failed resource (and the test shows it would see one).
//! 2. Clicking an action shows the model's next state and its sequence diagram, exactly as the
//!    library formats them for that path.
//! 3. "Run to completion" ends with the unique-state count of the library's BFS checker and the
//!    same status for every property.
//! 4. For a known-bad variant, the counterexample link opens a path whose last state violates
//!    the property, replayed here with the library's model.
//!
//! Why the DevTools protocol over a websocket, and no browser-automation crate or WebDriver: it
//! is Chromium's own protocol, it reports console errors and uncaught exceptions (WebDriver has
//! no portable way to), and the few commands used here (`Runtime.evaluate`,
//! `Input.dispatchMouseEvent`, `Page.navigate`, `Page.captureScreenshot`) have been stable for
//! years. The only dependency is a websocket client, and no crate can download a browser.
//!
//! Chromium is Debian's `chromium` at `/usr/bin/chromium` (`CHROMIUM=path` for another); `.ci/run`
//! installs it. Without it the test fails: a browser test that skips itself tests nothing.
//! `EXPLORER_SCREENSHOT=file.png` saves the counterexample view (the README's picture).
//!
//! The Explorer runs with one checker thread so that its search, and the counterexample it
//! links, are the same on every run.

use paxos_model::bug::Bug;
use paxos_model::checking::{
    self, Action, CheckConfig, CheckerKind, PaxosModel, RunOptions, State, Status,
};
use serde::Deserialize;
use serde_json::{json, Value};
use stateright::{Model, Path};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// Where Debian's `chromium` package installs the browser.
const CHROMIUM_DEFAULT: &str = "/usr/bin/chromium";
/// For the Explorer to listen, or Chromium to open its DevTools port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// For Chromium to answer one DevTools command.
const DEVTOOLS_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// For the page to show what a click or a navigation asked for.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// For "Run to completion" to show "Done": the check itself takes seconds, and the page asks for
/// the status only every 5 s.
const RUN_TO_COMPLETION_TIMEOUT: Duration = Duration::from_secs(120);
/// Between two looks at the page.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// The browser window, in CSS pixels.
const WINDOW_WIDTH_PX: u32 = 1280;
/// See [`WINDOW_WIDTH_PX`].
const WINDOW_HEIGHT_PX: u32 = 960;

/// A child process, killed when dropped (also when a test fails).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `paxos-model explore` for one configuration, on a free local port.
struct Explorer {
    process: KillOnDrop,
    url: String,
}

impl Explorer {
    fn start(cfg: &CheckConfig) -> Explorer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free local port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_paxos-model"))
            .arg("explore")
            .args(cfg.flags())
            .args(["--threads", "1", "--address", &address])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("paxos-model explore starts");
        let mut explorer = Explorer {
            process: KillOnDrop(child),
            url: format!("http://{address}/"),
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while TcpStream::connect(&address).is_err() {
            if let Some(status) = explorer.process.0.try_wait().expect("try_wait") {
                panic!("paxos-model explore {:?} exited: {status}", cfg.flags());
            }
            assert!(
                Instant::now() < deadline,
                "the Explorer did not listen on {address} within {STARTUP_TIMEOUT:?}"
            );
            sleep(POLL_INTERVAL);
        }
        explorer
    }
}

/// Headless Chromium with one page, driven over the DevTools protocol. Every JavaScript error
/// the page reports is collected in `errors`.
struct Chromium {
    socket: WebSocket<TcpStream>,
    /// The DevTools session of the page.
    session: String,
    next_id: u64,
    errors: Vec<String>,
    _process: KillOnDrop,
    /// The browser profile and log; removed after the process is killed (fields drop in order).
    _dir: tempfile::TempDir,
}

impl Chromium {
    fn launch() -> Chromium {
        let binary = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(CHROMIUM_DEFAULT));
        assert!(
            binary.exists(),
            "{} not found. This test drives the Explorer in headless Chromium: install it with \
             `apt-get install chromium` (Debian), or set CHROMIUM to a Chromium binary.{}",
            binary.display(),
            if std::env::var_os("CI").is_some() {
                " In CI, .ci/run installs it: check its output."
            } else {
                ""
            }
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let profile = dir.path().join("profile");
        let log_path = dir.path().join("chromium.log");
        let log = File::create(&log_path).expect("Chromium's log file");
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--hide-scrollbars",
                "--lang=en-US",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!(
                "--window-size={WINDOW_WIDTH_PX},{WINDOW_HEIGHT_PX}"
            ))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()));
        let mut process = KillOnDrop(child);

        // Chromium writes the port it chose, and the browser's websocket path, to this file.
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let (port, browser_path) = loop {
            let written =
                fs::read_to_string(profile.join("DevToolsActivePort")).unwrap_or_default();
            if let [port, path] = written.lines().collect::<Vec<_>>()[..] {
                break (port.to_string(), path.to_string());
            }
            let log = || fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(status) = process.0.try_wait().expect("try_wait") {
                panic!("Chromium exited: {status}\n{}", log());
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port within {STARTUP_TIMEOUT:?}\n{}",
                log()
            );
            sleep(POLL_INTERVAL);
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("DevTools port");
        stream
            .set_read_timeout(Some(DEVTOOLS_CALL_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(DEVTOOLS_CALL_TIMEOUT))
            .expect("write timeout");
        let url = format!("ws://127.0.0.1:{port}{browser_path}");
        let (socket, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools websocket {url}: {e}"));
        let mut chromium = Chromium {
            socket,
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            _process: process,
            _dir: dir,
        };

        let target = chromium.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = chromium.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        chromium.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            chromium.call(domain, json!({}));
        }
        chromium.call(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": WINDOW_WIDTH_PX,
                "height": WINDOW_HEIGHT_PX,
                "deviceScaleFactor": 1,
                "mobile": false,
            }),
        );
        chromium
    }

    /// A command to the page.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// A command to the browser itself.
    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// Sends a command and reads messages until its answer, recording the events in between.
    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(command.to_string()))
            .unwrap_or_else(|e| panic!("DevTools {method}: {e}"));
        let deadline = Instant::now() + DEVTOOLS_CALL_TIMEOUT;
        loop {
            let message = self.read(deadline, method);
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("DevTools {method} {params} failed: {error}");
                }
                return message["result"].clone();
            }
            self.record(&message);
        }
    }

    /// The next DevTools message, or a panic at `deadline`.
    fn read(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "Chromium did not answer {waiting_for} within {DEVTOOLS_CALL_TIMEOUT:?}"
            );
            self.socket
                .get_ref()
                .set_read_timeout(Some(left))
                .expect("read timeout");
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("DevTools sent {text}: {e}"))
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("DevTools connection lost waiting for {waiting_for}: {e}"),
            }
        }
    }

    /// Keeps every error the page reports: uncaught exceptions, `console.error` and
    /// `console.assert`, and the browser's own error log (failed resource loads, CSP, ...).
    fn record(&mut self, event: &Value) {
        let params = &event["params"];
        let error = match event["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                Some(format!(
                    "uncaught exception: {} {}",
                    details["text"].as_str().unwrap_or_default(),
                    details["exception"]["description"]
                        .as_str()
                        .unwrap_or_default()
                ))
            }
            "Runtime.consoleAPICalled"
                if matches!(params["type"].as_str(), Some("error" | "assert")) =>
            {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|arg| match &arg["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => arg["description"].as_str().unwrap_or("?").to_string(),
                        value => value.to_string(),
                    })
                    .collect();
                Some(format!(
                    "console.{}: {}",
                    params["type"].as_str().unwrap_or_default(),
                    args.join(" ")
                ))
            }
            // The Explorer serves no icon; the browser asks for one by itself.
            "Log.entryAdded"
                if params["entry"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/favicon.ico")) =>
            {
                None
            }
            "Log.entryAdded" if params["entry"]["level"] == "error" => Some(format!(
                "{} error: {} {}",
                params["entry"]["source"].as_str().unwrap_or_default(),
                params["entry"]["text"].as_str().unwrap_or_default(),
                params["entry"]["url"].as_str().unwrap_or_default()
            )),
            _ => None,
        };
        self.errors.extend(error);
    }

    /// Opens `url` and waits for its `load` event (the page's scripts have run).
    fn open(&mut self, url: &str) {
        let navigated = self.call("Page.navigate", json!({"url": url}));
        if let Some(error) = navigated.get("errorText") {
            panic!("cannot open {url}: {error}");
        }
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let event = self.read(deadline, "the page's load event");
            if event["method"] == "Page.loadEventFired" && event["sessionId"] == self.session {
                return;
            }
            self.record(&event);
        }
    }

    /// The value of a JavaScript expression (which must not throw).
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = result.get("exceptionDetails") {
            panic!("evaluating {expression}: {details}");
        }
        result["result"]["value"].clone()
    }

    /// What the Explorer shows now (`None` before it has rendered).
    fn view(&mut self) -> Option<View> {
        let value = self.eval(&format!("(() => {{ {FIND_JS} {VIEW_JS} }})()"));
        if value.is_null() {
            return None;
        }
        let view = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("the page's view {value}: {e}"));
        Some(view)
    }

    /// Looks at the page until `shows` holds, or fails after `timeout` with the last view.
    fn view_until(&mut self, what: &str, timeout: Duration, shows: impl Fn(&View) -> bool) -> View {
        let deadline = Instant::now() + timeout;
        loop {
            let view = self.view();
            if let Some(view) = view.as_ref().filter(|v| shows(v)) {
                return view.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the page did not show {what} within {timeout:?}; it shows {view:#?}"
            );
            sleep(POLL_INTERVAL);
        }
    }

    /// Clicks with the mouse at the centre of the element `element_js` evaluates to (after
    /// scrolling it into view), as a person would: this fails if it is hidden or covered.
    fn click(&mut self, element_js: &str, what: &str) {
        let center = self.eval(&format!(
            "(() => {{ {FIND_JS} const e = {element_js}; if (!e) return null; \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = match center.as_array().map(Vec::as_slice) {
            Some([x, y]) => (x.as_f64().unwrap(), y.as_f64().unwrap()),
            _ => panic!("no {what} to click on the page: {element_js}"),
        };
        let hit = self.eval(&format!(
            "(() => {{ {FIND_JS} const e = {element_js}; \
             return e.contains(document.elementFromPoint({x}, {y})); }})()"
        ));
        assert_eq!(hit, json!(true), "{what} is covered by another element");
        for (kind, button) in [
            ("mouseMoved", "none"),
            ("mousePressed", "left"),
            ("mouseReleased", "left"),
        ] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": button, "clickCount": 1}),
            );
        }
    }

    /// Whether the state pane's diagram is `svg`, parsed the way the page parses it.
    fn shows_svg(&mut self, svg: &str) -> bool {
        let expected = serde_json::to_string(svg).expect("a JS string");
        self.eval(&format!(
            "(() => {{ const expected = document.createElement('div'); \
             expected.innerHTML = {expected}; \
             const shown = document.querySelector('section.main-flex-right').children[1]\
             .querySelector('svg'); \
             return !!shown && shown.isEqualNode(expected.firstElementChild); }})()"
        )) == json!(true)
    }

    /// Fails if the page reported any error so far; first makes sure errors would be seen, by
    /// raising one of each kind after the page's own work and waiting for both to arrive.
    fn assert_no_errors(&mut self) {
        let errors = std::mem::take(&mut self.errors);
        assert!(errors.is_empty(), "the page reported errors: {errors:#?}");
        self.eval(
            "setTimeout(() => { console.error('probe: console'); \
             throw new Error('probe: exception'); }, 0); true",
        );
        let deadline = Instant::now() + PAGE_TIMEOUT;
        let seen = |errors: &[String], probe: &str| errors.iter().any(|e| e.contains(probe));
        while !(seen(&self.errors, "probe: console") && seen(&self.errors, "probe: exception")) {
            assert!(
                Instant::now() < deadline,
                "the page's errors are not seen: the probes gave only {:?}",
                self.errors
            );
            self.eval("true");
            sleep(POLL_INTERVAL);
        }
        let errors = std::mem::take(&mut self.errors);
        assert!(
            errors.iter().all(|e| e.contains("probe: ")),
            "the page reported errors: {errors:#?}"
        );
    }

    fn screenshot(&mut self, file: &std::path::Path) {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = data_encoding::BASE64
            .decode(shot["data"].as_str().expect("image data").as_bytes())
            .expect("base64 PNG");
        fs::write(file, png).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

/// Helpers for the page's parts, found by their headings (`ui/index.htm` of stateright).
const FIND_JS: &str = "
    const after = (heading) => {
        const h = [...document.querySelectorAll('h2, h3')]
            .find((h) => h.textContent.trim() === heading);
        return h ? h.nextElementSibling : null;
    };
    const linkIn = (heading, test) =>
        [...(after(heading) || document.createElement('ul')).querySelectorAll('a')].find(test);
";

/// Everything the tests read from the page, as a [`View`].
const VIEW_JS: &str = "
    const links = (list) => [...(list ? list.querySelectorAll('a') : [])].map((a) => ({
        text: a.textContent,
        href: a.getAttribute('href'),
        ignored: a.classList.contains('is-ignored'),
    }));
    const properties = (list) => [...(list ? list.querySelectorAll('li') : [])].map((li) => {
        const label = li.querySelector('a, span');
        return {
            summary: li.querySelector('b').textContent,
            label: label.textContent,
            href: label.tagName === 'A' ? label.getAttribute('href') : null,
        };
    });
    const statusHeading = [...document.querySelectorAll('h2')]
        .find((h) => h.textContent.trim() === 'Status');
    const section = document.querySelector('section.main-flex-right');
    if (!statusHeading || !section) return null;
    const status = {};
    for (const li of statusHeading.parentElement.nextElementSibling.querySelectorAll('li')) {
        status[li.querySelector('label').textContent.trim()] = li.querySelector('span').textContent;
    }
    const pane = section.children;
    const svg = pane[1].querySelector('svg');
    return {
        hash: location.hash,
        status,
        properties: properties(after('Global')),
        current_properties: properties(after('Current state')),
        path: links(after('Path of Actions')),
        choices: links(after('Next Action Choices')),
        state_text: pane[2].textContent,
        svg_shown: !!svg && svg.getBoundingClientRect().height > 0,
    };
";

/// What the Explorer shows.
#[derive(Debug, Clone, Deserialize)]
struct View {
    /// `#/steps/<init>/<action>/...`: the selected path.
    hash: String,
    /// The Status panel, by label (`"Unique States:"`, `"Progress:"`, ...).
    status: BTreeMap<String, String>,
    /// The Global properties.
    properties: Vec<PropertyView>,
    /// The properties of the selected state ("Current state?" ticked).
    current_properties: Vec<PropertyView>,
    /// Path of Actions, from "Pre-init".
    path: Vec<Link>,
    /// Next Action Choices.
    choices: Vec<Link>,
    /// The state pane's text: the last step's output and states.
    state_text: String,
    /// Whether the state pane shows a sequence diagram.
    svg_shown: bool,
}

impl View {
    fn status(&self, label: &str) -> &str {
        self.status
            .get(label)
            .unwrap_or_else(|| panic!("no {label} in the Status panel: {:?}", self.status))
    }

    fn path_texts(&self) -> Vec<&str> {
        self.path.iter().map(|l| l.text.as_str()).collect()
    }

    /// Each global property as `"Always agreement"` with the status its summary shows.
    fn property_statuses(&self) -> Vec<(String, Option<Status>)> {
        self.properties
            .iter()
            .map(|p| (p.label.clone(), p.status()))
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
struct PropertyView {
    summary: String,
    label: String,
    href: Option<String>,
}

impl PropertyView {
    /// The status the summary shows (`None`: still searching). The words are stateright's
    /// (`ui/app.js`, `getProperty`).
    fn status(&self) -> Option<Status> {
        let s = &self.summary;
        if s.contains("Safety holds") {
            Some(Status::Holds)
        } else if s.contains("Counterexample found") {
            Some(Status::Violated)
        } else if s.contains("Example not found") {
            Some(Status::NotFound)
        } else if s.contains("Example found") {
            Some(Status::Found)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Link {
    text: String,
    href: Option<String>,
    ignored: bool,
}

/// The link to `href` among the Next Action Choices.
fn choice(href: &str) -> String {
    let href = serde_json::to_string(href).unwrap();
    format!("linkIn('Next Action Choices', (a) => a.getAttribute('href') === {href})")
}

/// The link of the global property labelled `label` (`"Always agreement"`).
fn property_link(label: &str) -> String {
    let label = serde_json::to_string(label).unwrap();
    format!("linkIn('Global', (a) => a.textContent === {label})")
}

const RUN_TO_COMPLETION_BUTTON: &str =
    "[...document.querySelectorAll('button')].find((b) => b.textContent === 'Run to completion')";

const CURRENT_STATE_CHECKBOX: &str = "[...document.querySelectorAll('label')]\
     .find((l) => l.textContent.trim() === 'Current state?').querySelector('input')";

/// The path the Explorer shows at `hash` (`#/steps/<init>/<a1>/...`), replayed with the
/// library's model: index `k` is the `k`-th action of `Model::actions`, as the Explorer
/// numbers them.
fn replay(model: &PaxosModel, hash: &str) -> Path<State, Action> {
    let indices: Vec<usize> = hash
        .strip_prefix("#/steps/")
        .unwrap_or_else(|| panic!("not a path: {hash}"))
        .split('/')
        .map(|i| i.parse().unwrap_or_else(|e| panic!("{hash}: {e}")))
        .collect();
    let init = model.init_states()[indices[0]].clone();
    let mut state = init.clone();
    let mut actions = Vec::new();
    for &index in &indices[1..] {
        let mut choices = Vec::new();
        model.actions(&state, &mut choices);
        let action = choices[index].clone();
        state = model
            .next_state(&state, action.clone())
            .unwrap_or_else(|| panic!("{hash}: action {index} is ignored"));
        actions.push(action);
    }
    Path::from_actions(model, init, actions.iter()).expect("the path replays")
}

/// The Path of Actions the page should show for `path`.
fn path_texts(model: &PaxosModel, hash: &str, path: &Path<State, Action>) -> Vec<String> {
    let init = hash
        .trim_start_matches("#/steps/")
        .split('/')
        .next()
        .unwrap();
    ["Pre-init".to_string(), format!("Init {init}")]
        .into_iter()
        .chain(
            path.clone()
                .into_actions()
                .iter()
                .map(|a| model.format_action(a)),
        )
        .collect()
}

/// The state pane's text for the last step of `path` (its output, next and previous state).
fn last_step_text(model: &PaxosModel, path: &Path<State, Action>) -> String {
    let steps = path.clone().into_vec();
    let (before, action) = &steps[steps.len() - 2];
    model
        .format_step(before, action.clone().expect("an action"))
        .expect("a formatted step")
}

fn loaded(view: &View) -> bool {
    view.status("Model:") == "PaxosModel" && view.choices.iter().any(|c| c.text == "Init 0")
}

fn digits(s: &str) -> usize {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|e| panic!("not a count: {s:?}: {e}"))
}

#[test]
fn stepping_and_running_to_completion_show_what_the_library_computes() {
    let cfg = CheckConfig {
        clients: 1,
        ..CheckConfig::default()
    };
    let model = PaxosModel::new(cfg.clone());
    let explorer = Explorer::start(&cfg);
    let mut browser = Chromium::launch();
    browser.open(&explorer.url);

    // 1. The page loads; nothing is checked before "Run to completion".
    let view = browser.view_until("the Explorer", PAGE_TIMEOUT, loaded);
    assert_ne!(view.status("Progress:"), "Done", "{view:#?}");

    // 2. Click "Init 0", then the first action the model takes from there.
    browser.click(&choice("#/steps/0"), "Init 0");
    let view = browser.view_until("the initial state's actions", PAGE_TIMEOUT, |v| {
        v.path_texts() == ["Pre-init", "Init 0"]
    });
    let first = view.choices.iter().find(|c| !c.ignored).unwrap().clone();
    let href = first
        .href
        .clone()
        .expect("a taken action links to its state");
    browser.click(&choice(&href), &first.text);
    let view = browser.view_until("the next state", PAGE_TIMEOUT, |v| {
        v.hash == href && v.path.len() == 3 && v.svg_shown
    });
    let path = replay(&model, &view.hash);
    assert_eq!(view.path_texts(), path_texts(&model, &view.hash, &path));
    assert_eq!(view.path[2].text, first.text);
    assert_eq!(view.state_text, last_step_text(&model, &path));
    assert!(
        view.state_text.contains("NEXT_STATE"),
        "{}",
        view.state_text
    );
    let svg = model.as_svg(path).expect("a sequence diagram");
    assert!(
        browser.shows_svg(&svg),
        "the diagram shown is not the library's for {}",
        view.hash
    );

    // 3. Run to completion: the count and every property's status are the library checker's.
    browser.click(RUN_TO_COMPLETION_BUTTON, "Run to completion");
    let view = browser.view_until("Progress: Done", RUN_TO_COMPLETION_TIMEOUT, |v| {
        v.status("Progress:") == "Done"
    });
    let outcome = checking::check(
        cfg,
        RunOptions {
            checker: CheckerKind::Bfs,
            threads: 1,
            timeout: None,
            max_depth: None,
            seed: 0,
            progress: false,
        },
    );
    assert!(outcome.complete);
    assert_eq!(
        digits(view.status("Unique States:")),
        outcome.unique_states,
        "{view:#?}"
    );
    let expected: Vec<(String, Option<Status>)> = outcome
        .properties
        .iter()
        .map(|p| {
            let expectation = match p.expectation {
                "always" => "Always",
                "sometimes" => "Sometimes",
                other => panic!("expectation {other}"),
            };
            (format!("{expectation} {}", p.name), Some(p.status))
        })
        .collect();
    assert_eq!(view.property_statuses(), expected);

    browser.assert_no_errors();
}

#[test]
fn a_known_bug_s_counterexample_link_opens_the_violating_path() {
    // The catalogue's configuration is `make check`'s (millions of states): "Run to
    // completion" explores all of them, so the page uses a small one that catches it too.
    let mut known = checking::bugs::known(Bug::HalfQuorum);
    known.config = checking::CheckConfig {
        clients: 1,
        elections: 2,
        bug: Some(Bug::HalfQuorum),
        ..checking::CheckConfig::default()
    };
    // With one command nothing can be learned two ways; a value decided by a half quorum is
    // still not chosen.
    known.violates = "chosen";
    let model = PaxosModel::new(known.config.clone());
    let explorer = Explorer::start(&known.config);
    let mut browser = Chromium::launch();
    browser.open(&explorer.url);
    browser.view_until("the Explorer", PAGE_TIMEOUT, loaded);

    browser.click(RUN_TO_COMPLETION_BUTTON, "Run to completion");
    let view = browser.view_until("Progress: Done", RUN_TO_COMPLETION_TIMEOUT, |v| {
        v.status("Progress:") == "Done"
    });
    let label = format!("Always {}", known.violates);
    let property = view
        .properties
        .iter()
        .find(|p| p.label == label)
        .unwrap_or_else(|| panic!("no {label} among {:#?}", view.properties));
    assert_eq!(property.status(), Some(Status::Violated), "{property:?}");
    let href = property.href.clone().expect("a counterexample link");

    // 4. The link opens the path; its last state violates the property in the library too.
    browser.click(&property_link(&label), &label);
    let path = replay(&model, &href);
    let texts = path_texts(&model, &href, &path);
    let view = browser.view_until("the counterexample", PAGE_TIMEOUT, |v| {
        v.hash == href && v.path_texts() == texts && v.svg_shown
    });
    let condition = model
        .properties()
        .into_iter()
        .find(|p| p.name == known.violates)
        .expect("the violated property")
        .condition;
    assert!(
        !condition(&model, path.last_state()),
        "the linked state does not violate {}",
        known.violates
    );
    assert_eq!(view.state_text, last_step_text(&model, &path));
    let svg = model.as_svg(path).expect("a sequence diagram");
    assert!(browser.shows_svg(&svg), "the diagram is not the library's");

    // The page marks the selected state as the counterexample.
    browser.click(CURRENT_STATE_CHECKBOX, "Current state?");
    let view = browser.view_until("the current state's properties", PAGE_TIMEOUT, |v| {
        !v.current_properties.is_empty()
    });
    let current = view
        .current_properties
        .iter()
        .find(|p| p.label == label)
        .unwrap_or_else(|| panic!("no {label} among {:#?}", view.current_properties));
    assert_eq!(current.status(), Some(Status::Violated), "{current:?}");

    if let Some(file) = std::env::var_os("EXPLORER_SCREENSHOT") {
        browser.eval("window.scrollTo(0, 0)");
        browser.screenshot(std::path::Path::new(&file));
    }
    browser.assert_no_errors();
}
