package dev.iommulab.lab.scenario;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.Pos;
import dev.iommulab.lab.scenario.Tree.ScalarNode;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a YAML file into a {@link Tree} by walking Jackson's YAML parser tokens, so that every key and
 * value keeps its line and column. Scalars keep their text as written.
 */
final class TreeReader {

    /** Thread-safe and reusable (Jackson's factories are); made once, not per file. */
    private static final YAMLFactory YAML = new YAMLFactory();

    private final Path file;
    private final Problems problems;

    TreeReader(Path file, Problems problems) {
        this.file = file;
        this.problems = problems;
    }

    /** The document's root node, or {@code null} after recording why there is none. */
    Node read() {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             YAMLParser parser = YAML.createParser(reader)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                problems.add(Pos.at(new SourceLocation(file, 1, 1)), "", "the file is empty");
                return null;
            }
            Node root = readValue(parser, first, "");
            if (parser.nextToken() != null) {
                problems.add(pos(parser), "", "only one YAML document is allowed");
            }
            return root;
        } catch (JsonProcessingException e) {
            problems.add(Pos.at(location(e.getLocation())), "", "YAML syntax: " + firstLine(e.getOriginalMessage()));
        } catch (NoSuchFileException e) {
            problems.add(Pos.at(SourceLocation.unknown(file)), "", "no such file");
        } catch (CharacterCodingException e) {
            problems.add(Pos.at(SourceLocation.unknown(file)), "", "not valid UTF-8 text");
        } catch (IOException e) {
            problems.add(Pos.at(SourceLocation.unknown(file)), "", "cannot read the file: " + e);
        }
        return null;
    }

    private Node readValue(YAMLParser parser, JsonToken token, String path) throws IOException {
        Pos pos = pos(parser);
        switch (token) {
            case START_OBJECT:
                return readMap(parser, pos, path);
            case START_ARRAY:
                return readList(parser, pos, path);
            case VALUE_NULL:
                return new ScalarNode(null, pos);
            default:
                if (parser.isCurrentAlias()) {
                    problems.add(pos, path, "YAML aliases (*" + parser.getText() + ") are not supported");
                }
                return new ScalarNode(parser.getText(), pos);
        }
    }

    private MapNode readMap(YAMLParser parser, Pos pos, String path) throws IOException {
        MapNode map = new MapNode(pos);
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
            String key = parser.currentName();
            Pos keyPos = pos(parser);
            String keyPath = path.isEmpty() ? key : path + "." + key;
            Node value = readValue(parser, parser.nextToken(), keyPath);
            Entry first = map.get(key);
            if (first != null) {
                problems.add(keyPos, keyPath, "duplicate key '" + key + "' (first at "
                        + first.keyPos().location() + ")");
            } else {
                map.put(new Entry(key, keyPos, value));
            }
        }
        return map;
    }

    private ListNode readList(YAMLParser parser, Pos pos, String path) throws IOException {
        ListNode list = new ListNode(pos);
        for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
            list.items().add(readValue(parser, t, path + "." + list.items().size()));
        }
        return list;
    }

    private Pos pos(YAMLParser parser) {
        return Pos.at(location(parser.currentTokenLocation()));
    }

    private SourceLocation location(JsonLocation loc) {
        if (loc == null || loc.getLineNr() < 1) {
            return SourceLocation.unknown(file);
        }
        return new SourceLocation(file, loc.getLineNr(), Math.max(loc.getColumnNr(), 1));
    }

    private static String firstLine(String message) {
        String text = message == null ? "unreadable YAML" : message.strip();
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl).strip();
    }
}
