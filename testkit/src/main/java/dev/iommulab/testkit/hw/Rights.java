package dev.iommulab.testkit.hw;

/** Access rights of a mapping written by a {@link ModelHarness}. */
public enum Rights {
    READ, READ_WRITE
}
