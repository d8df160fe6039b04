package dev.iommulab.lab.cli;

import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.report.JsonReporter;
import dev.iommulab.lab.report.TextReporter;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioException;
import dev.iommulab.lab.scenario.ScenarioLoader;
import dev.iommulab.lab.scenario.ScenarioProblem;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code iommu-lab} command (docs/scenario-format.md): exit 0 when the run finished and every invariant
 * and expectation holds, 1 when one does not, 2 when the input is invalid (nothing runs), 3 when the lab itself
 * failed (an internal error: one line on stderr, the stack trace in a file, {@link Crash}).
 */
@Command(name = "iommu-lab", mixinStandardHelpOptions = true, version = "iommu-lab 0.1.0",
        description = "The Linux IOMMU fault-handling stack as a deterministic simulation.",
        subcommands = {IommuLab.Run.class, IommuLab.Validate.class, Compare.class})
public final class IommuLab implements Callable<Integer> {

    static final int EXIT_INVALID = 2;

    /** How the commands run a scenario; tests give one that fails to see an internal error handled. */
    @FunctionalInterface
    interface Runs {
        /** Runs {@code scenario}, keeping its first {@code journeyLimit} journey steps in full. */
        RunResult run(Scenario scenario, int journeyLimit) throws MachineConfigException;
    }

    /** The lab's runner. */
    static final Runs SCENARIO_RUNNER = (scenario, journeyLimit) -> new ScenarioRunner().journeyLimit(journeyLimit)
            .run(scenario);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_INVALID;
    }

    /** Runs the command line and returns the exit status. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(out, err, SCENARIO_RUNNER, args);
    }

    /** Runs the command line with {@code runs} as the runner and returns the exit status. */
    static int execute(PrintWriter out, PrintWriter err, Runs runs, String... args) {
        CommandLine cli = new CommandLine(new IommuLab(), new Factory(runs));
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((ex, a) -> {
            err.println(ex.getMessage());
            return EXIT_INVALID;
        });
        cli.setExecutionExceptionHandler((ex, command, parsed) -> Crash.report(err, ex));
        try {
            return cli.execute(args);
        } catch (Error e) { // picocli hands on errors (out of memory, stack overflow) as they are
            return Crash.report(err, e);
        }
    }

    /** Gives the commands that run scenarios their runner. */
    private record Factory(Runs runs) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            if (type == Run.class) {
                return type.cast(new Run(runs));
            }
            if (type == Compare.class) {
                return type.cast(new Compare(runs));
            }
            return CommandLine.defaultFactory().create(type);
        }
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int status = execute(out, err, args);
        out.flush();
        System.exit(status);
    }

    /**
     * Prints {@code e}, a problem the machine builder found with a key of the file (a hardware option, a policy),
     * where loading would print it: at the key's line and column, or at the override that gave it.
     */
    static int invalid(Path file, List<String> overrides, MachineConfigException e, PrintWriter err) {
        String prefix = e.key() + ": ";
        String message = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length())
                : e.getMessage();
        err.println(e.key().startsWith("policies.") || e.key().startsWith("hardware.") || e.key().equals("kernel")
                || e.key().startsWith("guests.")
                ? new ScenarioLoader().problemAt(file, overrides, e.key(), message) : file + ": " + e.getMessage());
        return EXIT_INVALID;
    }

    static Scenario load(Path file, List<String> overrides, PrintWriter err) {
        try {
            return new ScenarioLoader().load(file, overrides);
        } catch (ScenarioException e) {
            for (ScenarioProblem p : e.problems()) {
                err.println(p);
            }
            return null;
        }
    }

    @Command(name = "run", description = "Run a scenario and report what happened.")
    static final class Run implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "FILE", description = "scenario file (YAML)")
        Path file;

        @Option(names = "--format", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE})")
        Format format;

        @Option(names = "--seed", description = "override the scenario's seed")
        Long seed;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a scalar of the file by dotted path")
        List<String> sets = new ArrayList<>();

        @Option(names = "--journey", paramLabel = "all|N", description = "journey steps the text report prints in full"
                + " (default: " + ScenarioRunner.DEFAULT_JOURNEY_LIMIT + "); the rest are counted per layer")
        String journey;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private final Runs runs;

        Run(Runs runs) {
            this.runs = runs;
        }

        enum Format { text, json }

        /** The journey limit {@code --journey} asks for, or null (after a message) when it is neither all nor N. */
        private Integer journeyLimit(PrintWriter err) {
            if (journey == null) {
                return ScenarioRunner.DEFAULT_JOURNEY_LIMIT;
            }
            if (journey.equals("all")) {
                return Integer.MAX_VALUE;
            }
            try {
                int n = Integer.parseInt(journey);
                if (n >= 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            err.println("--journey: expected all or a number of steps >= 0, got '" + journey + "'");
            return null;
        }

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<String> overrides = new ArrayList<>(sets);
            if (seed != null) {
                overrides.add("seed=" + seed);
            }
            Integer journeyLimit = journeyLimit(err);
            Scenario scenario = journeyLimit == null ? null : load(file, overrides, err);
            if (scenario == null) {
                return EXIT_INVALID;
            }
            RunResult result;
            try {
                result = runs.run(scenario, journeyLimit);
            } catch (MachineConfigException e) {
                return invalid(file, overrides, e, err);
            }
            if (format == Format.json) {
                new JsonReporter().write(result, out);
                out.println();
            } else {
                out.print(new TextReporter().render(result));
            }
            out.flush();
            return result.passed() ? 0 : 1;
        }
    }

    @Command(name = "validate", description = "Check a scenario file without running it.")
    static final class Validate implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Scenario scenario = load(file, List.of(), spec.commandLine().getErr());
            if (scenario == null) {
                return EXIT_INVALID;
            }
            try {
                ScenarioRunner.check(scenario);
            } catch (MachineConfigException e) {
                return invalid(file, List.of(), e, spec.commandLine().getErr());
            }
            spec.commandLine().getOut().println(file + ": valid scenario '" + scenario.name() + "'");
            return 0;
        }
    }
}
