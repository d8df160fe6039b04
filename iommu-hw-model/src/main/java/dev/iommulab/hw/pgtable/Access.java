package dev.iommulab.hw.pgtable;

/** The kind of access a translation is asked for. */
public enum Access {
    READ, WRITE, EXEC
}
