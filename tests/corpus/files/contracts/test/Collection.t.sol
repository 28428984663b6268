// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Collection} from "../src/Collection.sol";

contract CollectionTest is Test {
    bytes32 constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 constant ROOT = 0x5cd6ea5dae550b018969e627e5aaa888192599478b1af167b6c62a7f45c71db1;
    uint256 internal ownerPrivateKey = 0xA11CE;
    address internal owner = vm.addr(ownerPrivateKey);
    Collection internal c;

    function setUp() public {
        c = new Collection(owner, ROOT);
    }

    function testMint() public {
        vm.prank(owner);
        c.mint(address(0xBEEF), 1);
        assertEq(c.ownerOf(1), address(0xBEEF));
    }
}
