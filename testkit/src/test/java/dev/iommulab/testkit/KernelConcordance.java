package dev.iommulab.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the two sides {@link KernelConcordanceTest} compares: the tables of docs/kernel-concordance.md, and
 * every {@code Counterpart of <function>()} claim in the Javadoc of main code, with the class and member the
 * comment documents. Plain text parsing, no compiler: a claim is where the words are.
 */
final class KernelConcordance {

    /** The three tables of the document, by the heading that opens each. */
    enum Table {
        MODELLED("## Modelled"), NOT_MODELLED("## Not modelled"), NOT_KERNEL("## Not kernel");

        private final String heading;

        Table(String heading) {
            this.heading = heading;
        }
    }

    /** One table row: the function, its home ("" outside {@link Table#MODELLED}) and its older names. */
    record Row(Table table, String function, String home, List<String> olderNames, int line) {
    }

    /** One claim: {@code file} is relative to the repository root, {@code member} the documented declaration. */
    record Claim(String function, List<String> olderNames, String file, String member, int line) {

        /** The simple name of the top-level class, from the file name. */
        String fileClass() {
            String name = file.substring(file.lastIndexOf('/') + 1);
            return name.substring(0, name.length() - ".java".length());
        }

        String where() {
            return file + ":" + line + " (" + member + ")";
        }
    }

    static final Pattern CLAIM = Pattern.compile("Counterpart of (?:\\{@code )?([a-z_][a-z0-9_]*)\\(");
    private static final Pattern FORMERLY = Pattern.compile(
            "^[^()]*\\)}?\\s*\\(formerly ((?:[a-z_][a-z0-9_]*\\(\\)(?:,\\s*)?)+)\\)");
    private static final Pattern FUNCTION = Pattern.compile("([a-z_][a-z0-9_]*)\\(\\)");
    private static final Pattern JAVADOC = Pattern.compile("/\\*\\*(.*?)\\*/", Pattern.DOTALL);
    private static final Pattern ANNOTATION = Pattern.compile("@[\\w.]+(?:\\([^)]*\\))?");
    private static final Pattern TYPE = Pattern.compile("\\b(?:class|interface|record|enum)\\s+(\\w+)");
    private static final Pattern CELL_NAME = Pattern.compile("`([a-z_][a-z0-9_]*)\\(\\)`");
    private static final Pattern CELL_HOME = Pattern.compile("`([A-Z]\\w*(?:\\.[A-Z]\\w*)*(?:#\\w+)?)`");

    private KernelConcordance() {
    }

    /** The repository root: the first directory upwards from the working directory that holds the document. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docs/kernel-concordance.md"))) {
                return p;
            }
        }
        throw new IllegalStateException("docs/kernel-concordance.md not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * The rows of the three tables. A row is a line starting with {@code | `} under one of the headings; a row
     * that does not have the table's shape is an {@link IllegalArgumentException} naming its line.
     */
    static List<Row> rows(List<String> lines) {
        List<Row> rows = new ArrayList<>();
        Table table = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("## ")) {
                table = null;
                for (Table t : Table.values()) {
                    if (line.startsWith(t.heading)) {
                        table = t;
                    }
                }
            } else if (table != null && line.startsWith("| `")) {
                rows.add(row(table, line, i + 1));
            }
        }
        return rows;
    }

    private static Row row(Table table, String line, int number) {
        String[] cells = line.split("\\|", -1);
        Matcher name = CELL_NAME.matcher(cells[1].trim());
        if (cells.length < 4 || !name.matches()) {
            throw new IllegalArgumentException("line " + number + ": expected | `function()` | ... |: " + line);
        }
        if (table != Table.MODELLED) {
            return new Row(table, name.group(1), "", List.of(), number);
        }
        Matcher home = CELL_HOME.matcher(cells[2].trim());
        if (cells.length < 5 || !home.matches()) {
            throw new IllegalArgumentException("line " + number + ": expected | `function()` | `Class#member` | "
                    + "older names |: " + line);
        }
        return new Row(table, name.group(1), home.group(1), functions(cells[3]), number);
    }

    /** Every claim in the Javadoc of {@code src/main/java} of every module under {@code root}. */
    static List<Claim> claims(Path root) {
        List<Claim> claims = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path src : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> files = Files.walk(src)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                        String rel = root.relativize(f).toString().replace('\\', '/');
                        claims.addAll(claims(rel, Files.readString(f)));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return claims;
    }

    /** The claims in one source file's text. */
    static List<Claim> claims(String file, String source) {
        List<Claim> claims = new ArrayList<>();
        Matcher doc = JAVADOC.matcher(source);
        while (doc.find()) {
            String text = flatten(doc.group(1));
            Matcher claim = CLAIM.matcher(text);
            String member = null;
            while (claim.find()) {
                if (member == null) {
                    member = declaredMember(source.substring(doc.end()));
                }
                Matcher formerly = FORMERLY.matcher(text.substring(claim.end()));
                List<String> older = formerly.find() ? functions(formerly.group(1)) : List.of();
                int line = lineOf(source, doc.start());
                claims.add(new Claim(claim.group(1), older, file, member, line));
            }
        }
        return claims;
    }

    /** The name a comment documents: the type, method, constructor, field or constant declared after it. */
    static String declaredMember(String after) {
        int end = after.length();
        for (char c : new char[] {'{', ';', '='}) {
            int at = after.indexOf(c);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        String decl = ANNOTATION.matcher(after.substring(0, end)).replaceAll(" ");
        Matcher type = TYPE.matcher(decl);
        int paren = decl.indexOf('(');
        if (type.find() && (paren < 0 || type.start() < paren)) {
            return type.group(1);
        }
        String head = (paren >= 0 ? decl.substring(0, paren) : decl).strip();
        String[] words = head.split("[^\\w$]+");
        return words.length == 0 ? "" : words[words.length - 1];
    }

    private static String flatten(String javadoc) {
        StringBuilder sb = new StringBuilder();
        for (String l : javadoc.split("\n")) {
            String s = l.strip();
            while (s.startsWith("*")) {
                s = s.substring(1);
            }
            sb.append(s.strip()).append(' ');
        }
        return sb.toString().replaceAll("\\s+", " ");
    }

    private static List<String> functions(String text) {
        List<String> names = new ArrayList<>();
        Matcher m = FUNCTION.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static int lineOf(String source, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (source.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
